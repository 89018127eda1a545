"""An ``mlflow_model`` registered without ``flavors`` gets the ones its MLmodel file lists, as Azure ML
fills a registered MLflow model's: from a job's output (registered when the job ends) and from a local
folder (``ml_client.models.create_or_update``, ``runner model create --type mlflow_model``) alike. The
same version given again without flavors is the same version (not an immutable change); flavors given
are kept as given. An MLmodel runner cannot read as flavors (too large, not YAML) leaves them unset, with
a warning: the model still registers. Jobs run as host processes; every file is in tmp_path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runner import MLClient, Model, Output, command
from runner.workspace.mlmodel import MAX_MLMODEL_BYTES

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.7
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.0
mlflow_version: 2.17.0
"""
FLAVORS = {"python_function": {"env": {"conda": "conda.yaml"}, "loader_module": "mlflow.sklearn",
                               "model_path": "model.pkl", "python_version": "3.11.7"},
           "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.5.0"}}


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def _folder(tmp_path: Path, mlmodel: str | bytes = MLMODEL) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "MLmodel").write_bytes(mlmodel.encode() if isinstance(mlmodel, str) else mlmodel)
    (folder / "model.pkl").write_text("weights")
    return folder


def test_a_jobs_mlflow_output_is_registered_with_its_flavors(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "MLmodel.src").write_text(MLMODEL)
    job = command(command="cp MLmodel.src ${{outputs.m}}/MLmodel && echo w > ${{outputs.m}}/model.pkl",
                  environment="runner/busybox:latest", compute="local-process", code=".", name="fl1",
                  outputs={"m": Output(type="mlflow_model", name="flavored")})
    done = ml_client.jobs.create_or_update(job, stream=True, echo=lambda _: None)
    assert done.status == "Completed", done.error
    assert ml_client.models.get("flavored", version="1").flavors == FLAVORS


def test_a_local_folder_is_registered_with_its_flavors(ml_client: MLClient, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    made = ml_client.models.create_or_update(Model(name="local", path=str(folder), type="mlflow_model"))
    assert made.flavors == FLAVORS and ml_client.models.get("local", version="1").flavors == FLAVORS
    again = ml_client.models.create_or_update(Model(name="local", version="1", path=str(folder),
                                                    type="mlflow_model", description="same"))
    assert again.flavors == FLAVORS and again.description == "same"  # the same version, updated
    given = ml_client.models.create_or_update(Model(name="given", path=str(folder), type="mlflow_model",
                                                    flavors={"sklearn": {"sklearn_version": "1.4"}}))
    assert given.flavors == {"sklearn": {"sklearn_version": "1.4"}}


@pytest.mark.parametrize("mlmodel", [b"flavors: [unclosed\n", b"a: " + b"x" * MAX_MLMODEL_BYTES],
                         ids=["not-yaml", "too-large"])
def test_an_mlmodel_that_cannot_be_read_leaves_them_unset(ml_client: MLClient, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture,
                                                           mlmodel: bytes) -> None:
    with caplog.at_level(logging.WARNING):
        made = ml_client.models.create_or_update(Model(name="odd", path=str(_folder(tmp_path, mlmodel)),
                                                       type="mlflow_model"))
    assert made.flavors is None
    assert [r for r in caplog.records if "flavors" in r.getMessage() and "MLmodel" in r.getMessage()]
