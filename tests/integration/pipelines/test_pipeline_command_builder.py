"""Azure's SDK pipeline tutorial shape, run for real in Docker (runner/busybox): a component built with
``command()`` (its input has no path), called inside ``@dsl.pipeline``, then registered with
``ml_client.create_or_update(up.component)``. Only the import line differs from azure.ai.ml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobs_support import cli, show

SCRIPT = """
import sys
from runner import MLClient, command, Input, Output, dsl
from runner.constants import AssetTypes
up = command(name="upper", inputs={"text": Input(type=AssetTypes.URI_FOLDER)},
             outputs={"out": Output(type=AssetTypes.URI_FOLDER, mode="rw_mount")},
             command="tr a-z A-Z < ${{inputs.text}}/word.txt > ${{outputs.out}}/word.txt",
             environment="runner/busybox:latest")

@dsl.pipeline()
def p(words):
    step = up(text=words)
    return {"result": step.outputs.out}

ml_client = MLClient()
job = ml_client.jobs.create_or_update(p(words=Input(type="uri_folder", path="./data")), stream=True)
print("component", ml_client.create_or_update(up.component).id)
print("job", job.name)
"""


def test_tutorial_pipeline_of_a_command(workspace_dir: Path, tmp_path: Path, docker_client: Any) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "word.txt").write_text("hello\n")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split(" ", 1) for line in result.stdout.splitlines()]
    printed = {words[0]: words[1] for words in lines if words[0] in ("job", "component")}
    record = show(workspace_dir, printed["job"])
    assert record["status"] == "Completed", record["error"]
    folder = Path(record["outputs"]["result"].replace(
        "azureml://datastores/workspaceblobstore/paths/", f"{workspace_dir}/datastores/workspaceblobstore/"))
    assert (folder / "word.txt").read_text() == "HELLO\n"
    assert printed["component"] == "azureml:upper:1"
    listed = json.loads(cli(workspace_dir, "component", "list", "-o", "json", check=True).stdout)
    assert [(c["name"], c["version"]) for c in listed] == [("upper", "1")]
