"""`import runner.cli.main` stays cheap: heavy dependencies are imported by the commands that use them.

A guard against regressions (which modules are loaded), not a timing assertion.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("docker", "adlfs", "fsspec", "azure", "mounts", "runner.client", "runner.spec.model",
         "runner.workspace.datastores", "pydantic", "rich",
         "runner.ui", "starlette", "uvicorn", "jinja2", "multipart", "python_multipart")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded for h in HEAVY if m == h or m.startswith(h + "."))


def test_import_runner_cli_loads_no_heavy_dependency() -> None:
    loaded = _modules_after("import runner.cli.main")
    assert "runner.cli.main" in loaded
    assert _heavy(loaded) == []


def test_runner_version_loads_no_heavy_dependency() -> None:
    code = ("import sys\nfrom runner.cli.main import app\nsys.argv = ['runner', '--version']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass")
    loaded = _modules_after(code)
    assert _heavy(loaded) == []
