"""``runner component create --file`` reads ``code:`` as a job does (``runner.file_urls``): a file URL naming
another host is one error at its line (exit 2, a hint, no traceback), never the relative folder
``<host>/x``, and nothing is registered; ``file://localhost/x`` registers ``/x``. Everything lives in this
test's tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, write_job

COMPONENT = """\
    name: reader
    command: python main.py
    environment: {{image: runner/busybox:latest}}
    code: "{code}"
    """


def test_component_code_on_another_host_is_one_error_at_its_line(workspace_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "spec" / "otherhost" / "x").mkdir(parents=True)  # the relative reading: never taken
    (tmp_path / "spec" / "otherhost" / "x" / "main.py").write_text("print('wrong')\n")
    path = write_job(tmp_path / "spec", COMPONENT.format(code="file://otherhost/x"), name="comp.yml")
    result = cli(workspace_dir, "component", "create", "--file", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    stderr = result.stderr
    assert f"{path}:4:" in stderr and "code" in stderr and "names the host 'otherhost'" in stderr, stderr
    assert "hint:" in stderr and "file:///" in stderr and "does not exist" not in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    listed = cli(workspace_dir, "component", "list", "-o", "json", check=True)
    assert json.loads(listed.stdout) == []


def test_component_code_on_localhost_is_registered(workspace_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "my src"
    src.mkdir()
    (src / "main.py").write_text("print('hi')\n")
    path = write_job(tmp_path / "spec", COMPONENT.format(code=f"file://localhost{src}"), name="comp.yml")
    created = cli(workspace_dir, "component", "create", "--file", str(path), "-o", "json", check=True)
    assert (Path(json.loads(created.stdout)["code"]) / "main.py").read_text() == "print('hi')\n"
