"""A lookup through ``ml_client`` of something that is not there raises what azure.ai.ml raises,
``azure.core.exceptions.ResourceNotFoundError`` (status 404), so the usual get-or-create runs unchanged;
the error is runner's ``ResolveError`` too, with the same message and Python hint. The CLI says what it
said, with the same exit code; creating a client and a lookup that finds its asset import no azure.core."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from repo_paths import REPO

from runner import MLClient
from runner.constants import AssetTypes
from runner.entities import Data, Model
from runner.errors import ResolveError


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "iris.csv").write_text("a,b\n1,2\n")
    (tmp_path / "model.pkl").write_text("m")
    return MLClient(workspace_dir=tmp_path / "ws")


def test_get_or_create_as_azure_samples_write_it(ml_client: MLClient, tmp_path: Path) -> None:
    try:
        data_asset = ml_client.data.get(name="titanic", version="1")
        created = False
    except ResourceNotFoundError:
        data_asset = ml_client.data.create_or_update(
            Data(name="titanic", version="1", path=str(tmp_path / "iris.csv"), type=AssetTypes.URI_FILE))
        created = True
    assert created and data_asset.id == "azureml:titanic:1"
    assert ml_client.data.get(name="titanic", version="1").version == "1"


LOOKUPS: dict[str, Callable[[MLClient, Path], object]] = {
    "data.get": lambda c, _: c.data.get(name="titanic", version="1"),
    "data.get missing version": lambda c, _: c.data.get(name="iris", version="9"),
    "models.get latest": lambda c, _: c.models.get("nope", label="latest"),
    "models.download": lambda c, p: c.models.download("nope", version="1", download_path=p / "dl"),
    "models.archive": lambda c, _: c.models.archive("nope", version="1"),
    "environments.get": lambda c, _: c.environments.get("nope", version="1"),
    "components.get": lambda c, _: c.components.get("nope", version="1"),
    "datastores.get": lambda c, _: c.datastores.get("nope"),
    "compute.get": lambda c, _: c.compute.get("nope"),
    "jobs.get": lambda c, _: c.jobs.get("no-such-job"),
    "jobs.stream": lambda c, _: c.jobs.stream("no-such-job"),
    "jobs.download": lambda c, p: c.jobs.download("no-such-job", download_path=p / "dl"),
    "jobs.archive": lambda c, _: c.jobs.archive("no-such-job"),
}


@pytest.mark.parametrize("call", list(LOOKUPS))
def test_each_missing_thing_is_resource_not_found_and_resolve_error(ml_client: MLClient, tmp_path: Path,
                                                                    call: str) -> None:
    ml_client.data.create_or_update(Data(name="iris", version="1", path=str(tmp_path / "iris.csv"),
                                         type=AssetTypes.URI_FILE))
    with pytest.raises(ResourceNotFoundError) as info:
        LOOKUPS[call](ml_client, tmp_path)
    err = info.value
    assert isinstance(err, ResolveError) and isinstance(err, HttpResponseError)
    assert err.status_code == 404 and err.exit_code == 1
    assert str(err) == err.render(python=True) and err.message in str(err)
    assert "runner " not in str(err).split("hint:")[-1] or call.startswith(("datastores", "compute"))


def test_the_hints_are_kept_and_one_error_shows(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.models.create_or_update(Model(name="clf", path=str(tmp_path / "model.pkl")))
    with pytest.raises(ResolveError) as info:
        ml_client.models.get("nope", label="latest")
    err = info.value
    assert isinstance(err, ResourceNotFoundError)
    assert "unknown model 'nope'" in err.message
    assert "ml_client.models.list(list_view_type=ListViewType.ALL)" in str(err)
    assert "`runner model list --include-archived`" in err.render()  # the CLI's words, as before
    assert err.__suppress_context__ and err.__cause__ is None  # no "during handling" of a second error


def test_a_found_asset_and_other_errors_are_unchanged(ml_client: MLClient, tmp_path: Path) -> None:
    model = ml_client.models.create_or_update(Model(name="clf", path=str(tmp_path / "model.pkl")))
    assert ml_client.models.get("clf", version=model.version).name == "clf"
    with pytest.raises(Exception) as info:  # not a lookup: a path that is not there
        ml_client.models.create_or_update(Model(name="clf2", path=str(tmp_path / "absent.pkl")))
    assert not isinstance(info.value, ResourceNotFoundError)


@pytest.mark.parametrize(("args", "said"), [
    (["data", "show", "--name", "titanic", "--version", "1"], "error: unknown data asset 'titanic'"),
    (["model", "show", "--name", "nope", "--version", "1"], "error: unknown model 'nope'"),
    (["job", "show", "--name", "nope"], "error: unknown job 'nope'"),
    (["environment", "show", "--name", "nope", "--version", "1"],
     "error: environment 'nope' version 1 is not mapped to a local image"),
])
def test_the_cli_says_what_it_said(ml_client: MLClient, tmp_path: Path, args: list[str], said: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0",
           "RUNNER_WORKSPACE": str(tmp_path / "ws")}
    result = subprocess.run([sys.executable, "-m", "runner", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(said), result.stderr
    assert "`runner " in result.stderr.split("\n  hint: ", 1)[1]  # the CLI's words
    assert "Traceback" not in result.stderr and "ResourceNotFound" not in result.stderr


COLD = """
import sys
from runner import MLClient
from runner.entities import Model
client = MLClient(workspace_dir=sys.argv[1])
client.models.create_or_update(Model(name="m", path=sys.argv[2]))
assert client.models.get("m", version="1").name == "m"
assert client.jobs.list() == []
loaded = sorted(m for m in sys.modules if m == "azure.core" or m.startswith("azure.core."))
assert loaded == [], loaded
"""


def test_a_client_and_a_found_lookup_import_no_azure_core(tmp_path: Path) -> None:
    (tmp_path / "m.pkl").write_text("m")
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0"}
    result = subprocess.run([sys.executable, "-c", COLD, str(tmp_path / "ws"), str(tmp_path / "m.pkl")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
