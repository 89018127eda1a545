"""Outputs addressable after the job: a registered output model (name + version) and the MLflow model a
job logged (runs:/<job>/model) feed a second job (chaining), with lineage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import assert_no_leftovers, cli, datastore_file, sha256_tree, show, write_job

pytestmark = pytest.mark.docker

TRAIN = """\
import os, sys
import mlflow, mlflow.sklearn
import numpy as np
from sklearn.linear_model import LinearRegression

out = sys.argv[1]
model = LinearRegression().fit(np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.0, 6.0]))
os.makedirs(os.path.join(out, "weights"), exist_ok=True)
with open(os.path.join(out, "weights", "coef.txt"), "w") as handle:
    handle.write(repr(round(float(model.coef_[0]), 6)))
with open(os.path.join(out, "README"), "w") as handle:
    handle.write("a chained model")
with mlflow.start_run():
    mlflow.log_metric("score", 0.5)
    mlflow.sklearn.log_model(model, "model")
print("trained")
"""

CONSUME = """
    command: >-
      cd ${{inputs.registered}} && find . -type f | sort | xargs sha256sum &&
      cat ${{inputs.by_job}}/weights/coef.txt && echo &&
      python -c "import mlflow.sklearn, sys; m = mlflow.sklearn.load_model(sys.argv[1]);
      print('prediction', round(m.predict([[10.0]])[0], 6))" ${{inputs.mlflow}}
    inputs:
      registered:
        type: custom_model
        path: azureml:chained:1
        mode: ro_mount
      by_job:
        type: custom_model
        path: azureml://jobs/train1/outputs/model
        mode: download
      mlflow:
        type: mlflow_model
        path: runs:/train1/model
        mode: download
    environment:
      image: runner/python:3.11
    """


def test_output_model_and_mlflow_model_chain_into_next_job(workspace_dir: Path, tmp_path: Path,
                                                           docker_client: Any) -> None:
    ws = workspace_dir
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    train = write_job(tmp_path, """
        command: python train.py ${{outputs.model}}
        code: src
        outputs:
          model:
            type: custom_model
            mode: upload
            name: chained
            version: 1
        environment:
          image: runner/python:3.11
        """, name="train.yml")
    result = cli(ws, "job", "create", "--file", str(train), "--stream", "--name", "train1")
    assert result.returncode == 0, result.stdout + result.stderr
    record = show(ws, "train1")
    assert record["registered_models"] == ["azureml:chained:1"]
    assert record["outputs"]["model"] == "azureml://datastores/workspaceblobstore/paths/azureml/train1/model"
    model = json.loads(cli(ws, "model", "show", "--name", "chained", "--version", "1", "-o", "json",
                           check=True).stdout)
    assert model["job_name"] == "train1"  # lineage
    produced = sha256_tree(datastore_file(ws, "azureml/train1/model"))
    assert set(produced) == {"README", "weights/coef.txt"}
    assert (datastore_file(ws, "ExperimentRun/dcid.train1/model/MLmodel")).is_file()

    # runs:/ resolves as a model path too (registered with lineage)
    mlflow_model = json.loads(cli(ws, "model", "create", "--name", "logged", "--path", "runs:/train1/model",
                                  "--type", "mlflow_model", "-o", "json", check=True).stdout)
    assert mlflow_model["job_name"] == "train1"

    consume = write_job(tmp_path, CONSUME, name="consume.yml")
    result = cli(ws, "job", "create", "--file", str(consume), "--stream", "--name", "consume1")
    assert result.returncode == 0, result.stdout + result.stderr
    for rel, digest in produced.items():
        assert f"{digest}  ./{rel}" in result.stdout
    assert "2.0" in result.stdout  # coef read through azureml://jobs/train1/outputs/model
    assert "prediction 20.0" in result.stdout  # the MLflow model logged by train1, loaded by consume1
    inputs = show(ws, "consume1")["inputs"]
    assert inputs["by_job"].endswith("azureml/train1/model")
    assert_no_leftovers(docker_client, ws, "consume1")


def test_output_registration_conflict_is_refused_before_running(workspace_dir: Path, tmp_path: Path) -> None:
    """A version registered already is refused at plan time; one registered while the job runs fails the
    job and keeps its output (tests/integration/cli/test_taken_versions.py)."""
    ws = workspace_dir
    job = write_job(tmp_path, """
        command: echo weights > ${{outputs.model}}/w.txt
        outputs:
          model:
            type: custom_model
            mode: upload
            name: dup
            version: 1
        environment:
          image: runner/busybox:latest
        """)
    first = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "dup1")
    assert first.returncode == 0, first.stderr
    assert "Registered models: azureml:dup:1" in first.stdout
    second = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "dup2")
    assert second.returncode == 1, second.stderr  # a registry rule, as the CI guide says
    assert "model 'dup' version 1 exists already" in second.stderr
    assert "outputs.model.version" in second.stderr
    assert cli(ws, "job", "show", "--name", "dup2").returncode != 0  # nothing was queued or run
    assert not datastore_file(ws, "azureml/dup2").exists()
