"""The seed's Python snippets for models run with only the ``azure.ai.ml`` import prefix replaced.

The snippets below are copied from the seed document (Register and work with models). Edits, all
listed here: ``azure.ai.ml`` -> ``runner``; the placeholder ``<run-id>`` -> a real job of the workspace;
the seed's ``run_model`` snippet lacks a comma after its ``path=`` line (a syntax error in the document),
which is added. The notebook cells the seed includes by reference (file_model, cloud_model) are not in
the checked-out examples; they are written here the way the azureml-examples notebook has them.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from repo_paths import EXAMPLES

from runner.workspace.db import JobRecord, Workspace

pytestmark = pytest.mark.examples

CONNECT = '''
from azure.ai.ml import MLClient, Input
from azure.ai.ml.entities import Model
from azure.ai.ml.constants import AssetTypes
from azure.identity import DefaultAzureCredential

subscription_id = "<SUBSCRIPTION_ID>"
resource_group = "<RESOURCE_GROUP>"
workspace = "<AML_WORKSPACE_NAME>"

ml_client = MLClient(DefaultAzureCredential(), subscription_id, resource_group, workspace)
'''

FILE_AND_CLOUD_MODEL = '''
file_model = Model(
    path="mlflow-model/model.pkl",
    type=AssetTypes.CUSTOM_MODEL,
    name="local-file-example",
    description="Model created from local file.",
)
ml_client.models.create_or_update(file_model)

cloud_model = Model(
    path="azureml://datastores/workspaceblobstore/paths/model.pkl",
    name="cloud-path-example",
    type=AssetTypes.CUSTOM_MODEL,
    description="Model created from cloud path.",
)
ml_client.models.create_or_update(cloud_model)
'''

RUN_MODEL = '''
from azure.ai.ml.entities import Model
from azure.ai.ml.constants import ModelType

run_model = Model(
    path="runs:/<run-id>/model/",
    name="run-model-example",
    description="Model created from run.",
    type=ModelType.MLFLOW
)

ml_client.models.create_or_update(run_model)
'''

MANAGE = '''
models = ml_client.models.list()
for model in models:
    print(model.name)

models = ml_client.models.list(name="run-model-example")
for model in models:
    print(model.version)

model_example = ml_client.models.get(name="run-model-example", version="1")
print(model_example)

model_example.description="This is an updated description."
model_example.tags={"stage":"Prod"}
ml_client.models.create_or_update(model=model_example)

ml_client.models.archive(name="run-model-example")

ml_client.models.archive(name="run-model-example", version="1")
'''


def _localize(snippet: str, run_id: str) -> str:
    return snippet.replace("azure.ai.ml", "runner").replace("<run-id>", run_id)


@pytest.fixture
def seeded_workspace(workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace with one finished job whose artifacts hold an MLflow model, run from a folder holding
    the examples' mlflow-model."""
    ws = Workspace(workspace_dir)
    artifacts = ws.default_datastore_root / "ExperimentRun" / "dcid.run-1" / "model"
    shutil.copytree(EXAMPLES / "cli" / "assets" / "model" / "mlflow-model", artifacts)
    (ws.default_datastore_root / "model.pkl").write_bytes(b"cloud")
    ws.create_job(JobRecord(name="run-1", status="Completed"))
    shutil.copytree(EXAMPLES / "cli" / "assets" / "model" / "mlflow-model", tmp_path / "mlflow-model")
    monkeypatch.chdir(tmp_path)
    return ws


def test_seed_model_snippets_run_unchanged(seeded_workspace: Workspace) -> None:
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for snippet in (CONNECT, FILE_AND_CLOUD_MODEL, RUN_MODEL, MANAGE):
            exec(compile(_localize(snippet, "run-1"), "<seed>", "exec"), namespace)  # noqa: S102
    printed = out.getvalue().splitlines()
    assert printed[:3] == ["cloud-path-example", "local-file-example", "run-model-example"]
    assert printed[3] == "1"
    assert "name: run-model-example" in out.getvalue() and "type: mlflow_model" in out.getvalue()

    from runner.client import MLClient

    ml_client = MLClient(workspace_dir=seeded_workspace.root)
    model = ml_client.models.get(name="run-model-example", version="1")
    assert model.description == "This is an updated description." and model.tags == {"stage": "Prod"}
    assert model.archived and model.job_name == "run-1"
    assert [m.name for m in ml_client.models.list()] == ["cloud-path-example", "local-file-example"]
    file_model = ml_client.models.get(name="local-file-example", version="1")
    assert file_model.path == ("azureml://datastores/workspaceblobstore/paths/LocalUpload/"
                               "local-file-example/1/model.pkl")


# The seed's own "Datastore" tab (its two comment lines left out): the cloud model references the path
# create_or_update gave file_model.
SEED_CLOUD_MODEL = '''
cloud_model = Model(
    path=file_model.path,
    name="cloud-path-example",
    type=AssetTypes.CUSTOM_MODEL,
    description="Model created from cloud path.",
)
ml_client.models.create_or_update(cloud_model)
'''

FILE_MODEL = FILE_AND_CLOUD_MODEL.split("cloud_model =")[0]


def test_seed_cloud_model_uses_the_registered_path_of_file_model(seeded_workspace: Workspace) -> None:
    namespace: dict[str, object] = {}
    for snippet in (CONNECT, FILE_MODEL, SEED_CLOUD_MODEL):
        exec(compile(_localize(snippet, "run-1"), "<seed>", "exec"), namespace)  # noqa: S102
    from runner.client import MLClient

    ml_client = MLClient(workspace_dir=seeded_workspace.root)
    cloud = ml_client.models.get(name="cloud-path-example", version="1")
    registered = "azureml://datastores/workspaceblobstore/paths/LocalUpload/local-file-example/1/model.pkl"
    assert cloud.path == registered and cloud.datastore_uri == registered  # referenced, not copied again
    assert namespace["file_model"].path == registered  # type: ignore[attr-defined]
