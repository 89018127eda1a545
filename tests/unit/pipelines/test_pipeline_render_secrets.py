"""What ``runner job validate`` prints for a pipeline (its text and ``-o json``) shows a secret a value holds
masked, as a command job's printed plan does (``runner.url_secrets.without_secrets``): a pipeline input's
literal or path, a step's literal input (given or bound to a pipeline input), an input's path, an output's
location, the command; a step's ``environment_variables`` are never shown. The table's columns are
measured after masking, and masking is done once (no ``removed> removed>``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from runner.errors import RunnerError
from runner.pipelines.render import pipeline_dict, render_pipeline
from runner.pipelines.submit import validate_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRETKEY==;EndpointSuffix=core.windows.net"
# a literal that looks like a secret is refused (runner.spec.secret_fields.literal_secret); one the printed
# view masks for what it may hold (a URL's query) is kept, and shown masked
PCONN = "https://a.blob.core.windows.net/c/p?sv=2024&se=SECRETSE"
SHOWN_PCONN = "https://a.blob.core.windows.net/c/p?<query removed>"
PIPELINE = f"""\
type: pipeline
inputs:
  pconn: "{PCONN}"
  purl:
    type: uri_folder
    path: "https://a.blob.core.windows.net/c/x?sv=2024&sig=SECRETSIG"
settings:
  default_compute: local-process
jobs:
  s:
    command: echo ${{{{inputs.conn}}}} ${{{{inputs.dsn}}}} ${{{{inputs.url}}}} ${{{{inputs.p}}}} Pwd=SECRETPW
    environment: {{image: runner/busybox:latest}}
    environment_variables:
      DSN: "Server=db;Uid=me;Pwd=SECRETPW"
      API_TOKEN: SECRETTOKEN
      MODE: fast
    inputs:
      conn: "https://h/conn?sv=1&se=SECRETSE"
      dsn:
        type: string
        value: "https://h/dsn?sv=1&se=SECRETSE"
      url: "https://a.blob.core.windows.net/c/x?sv=2024&se=SECRETSE"
      p: ${{{{parent.inputs.pconn}}}}
      data:
        type: uri_folder
        path: memory://bucket/AccountKey=SECRETKEY==/x
    outputs:
      out:
        type: uri_folder
        path: memory://bucket/Pwd=SECRETPW/out
"""
URL = "https://a.blob.core.windows.net/c/x?<query removed>"


def _validated(tmp_path: Path) -> tuple[str, dict[str, Any]]:
    (tmp_path / "p.yml").write_text(textwrap.dedent(PIPELINE))
    spec = load_pipeline_spec(tmp_path / "p.yml")
    graph, locations, reuse = validate_pipeline(Workspace(tmp_path / "ws"), spec, name="p")
    return render_pipeline(graph, locations, reuse), pipeline_dict(graph, locations, reuse)


def test_the_printed_pipeline_masks_secrets(tmp_path: Path) -> None:
    text, _ = _validated(tmp_path)
    assert "SECRET" not in text, text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith(("  ", "      "))}
    assert rows["pconn"][2:] == SHOWN_PCONN.split(), text
    assert rows["purl"][2:] == URL.split(), text
    assert rows["conn"][3:] == ["https://h/conn?<query", "removed>"], text
    assert rows["dsn"][3:] == ["https://h/dsn?<query", "removed>"], text
    assert rows["url"][3:] == URL.split(), text
    assert rows["p"][3:] == [*SHOWN_PCONN.split(), "${{parent.inputs.pconn}}"], text
    assert rows["data"][3] == "memory://bucket/AccountKey=***", text
    assert rows["out"][3].startswith("memory://bucket/Pwd=***"), text
    assert text.endswith("\n    command\n      echo ${{inputs.conn}} ${{inputs.dsn}} ${{inputs.url}} "
                         "${{inputs.p}} Pwd=***"), text
    assert "removed> removed>" not in text, text
    assert "fast" not in text and "DSN" not in text, text  # environment_variables: not shown


def test_the_step_table_is_measured_after_masking(tmp_path: Path) -> None:
    text, _ = _validated(tmp_path)
    step_rows = [line for line in text.splitlines() if line.startswith("      ")
                 and line.split()[0] in ("conn", "dsn", "url", "p", "data")]
    columns = {len(line) - len(line.split(None, 3)[3]) for line in step_rows}
    assert len(step_rows) == 5 and len(columns) == 1, text  # each value starts in the same column


def test_the_pipeline_as_data_masks_secrets(tmp_path: Path) -> None:
    _, data = _validated(tmp_path)
    shown = json.dumps(data)
    assert "SECRET" not in shown, shown
    assert data["inputs"]["pconn"] == SHOWN_PCONN
    assert data["inputs"]["purl"]["path"] == URL
    values = {row["name"]: row["value"] for row in data["steps"][0]["inputs"]}
    assert values == {"conn": "https://h/conn?<query removed>", "dsn": "https://h/dsn?<query removed>",
                      "url": URL, "p": SHOWN_PCONN, "data": "memory://bucket/AccountKey=***"}
    assert data["steps"][0]["command"].endswith("Pwd=***")
    assert data["steps"][0]["outputs"][0]["location"].startswith("memory://bucket/Pwd=***")


def test_job_validate_of_a_pipeline_prints_no_secret(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(textwrap.dedent(PIPELINE))
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    for output in ("table", "json"):
        result = subprocess.run([sys.executable, "-c", code, "job", "validate", "-f", "p.yml", "-o", output],
                                capture_output=True, text=True, timeout=120, check=False, env=env,
                                cwd=tmp_path)
        shown = result.stdout + result.stderr
        assert result.returncode == 0 and "AccountKey=***" in result.stdout, shown
        assert "SECRET" not in shown and "Traceback" not in shown, shown


def test_a_literal_that_looks_like_a_secret_is_refused_before_anything_is_shown(tmp_path: Path) -> None:
    """The literals this file's pipeline held before such literals were refused: one error each, at its
    line, showing no secret."""
    for shown, given, line in ((f'pconn: "{PCONN}"', f'pconn: "{CONN}"', 3),
                               ('conn: "https://h/conn?sv=1&se=SECRETSE"',
                                'conn: "AccountName=a;AccountKey=SECRETKEY=="', 18),
                               ('value: "https://h/dsn?sv=1&se=SECRETSE"',
                                'value: "Server=db;Uid=me;Pwd=SECRETPW"', 19)):  # the input's line
        (tmp_path / "p.yml").write_text(textwrap.dedent(PIPELINE).replace(shown, given))
        try:
            validate_pipeline(Workspace(tmp_path / "ws"), load_pipeline_spec(tmp_path / "p.yml"), name="p")
        except RunnerError as err:
            assert f"p.yml:{line}:" in str(err.where) and "SECRET" not in err.render(), err.render()
            assert "looks like a secret" in err.message, err.render()
        else:
            raise AssertionError(f"{given} was accepted")
