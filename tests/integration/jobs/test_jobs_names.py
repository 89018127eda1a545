"""Input and output names with dashes (the seed's ``trained-model``) in a real container: the command gets
the paths, the environment keeps ``AZURE_ML_OUTPUT_trained-model`` (bash passes it on) and adds
``AZURE_ML_OUTPUT_trained_model`` (busybox and dash ``sh`` drop names that are no shell identifier), and
the output is addressable as ``azureml://jobs/<job>/outputs/trained-model``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, job_log, show, write_job

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("image", ["runner/busybox:latest", "runner/python:3.11"])
def test_a_dashed_output_name_runs(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                   image: str) -> None:
    (tmp_path / "in-data").mkdir()
    (tmp_path / "in-data" / "a.txt").write_text("alpha\n")
    job = write_job(tmp_path, f"""
        command: >-
          cp ${{{{inputs.in-data}}}}/a.txt ${{{{outputs.trained-model}}}}/model.txt &&
          echo "alias=$AZURE_ML_OUTPUT_trained_model" &&
          env | grep -c '^AZURE_ML_OUTPUT_trained-model=' || true
        inputs:
          in-data: {{type: uri_folder, path: ./in-data, mode: download}}
        outputs:
          trained-model: {{type: custom_model, mode: upload}}
        environment: {image}
        """)
    name = f"dashed-{image.split('/')[1].split(':')[0]}"
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", name, "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = job_log(result.stdout).splitlines()
    assert "alias=/mnt/runner/outputs/trained-model" in lines
    assert lines[-1] == ("1" if image.startswith("runner/python") else "0")  # bash keeps the dashed name
    assert (datastore_file(workspace_dir, f"azureml/{name}/trained-model/model.txt")).read_text() == "alpha\n"
    model = cli(workspace_dir, "model", "create", "--name", "m", "--path",
                f"azureml://jobs/{name}/outputs/trained-model", "-o", "json", check=True)
    assert f'"job_name": "{name}"' in model.stdout
    assert show(workspace_dir, name)["outputs"]["trained-model"].endswith(f"azureml/{name}/trained-model")
