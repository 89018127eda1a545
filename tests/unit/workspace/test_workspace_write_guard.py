"""No job output may land in the workspace's own state (its secrets, database and sqlite's journals,
jobs/, the cache, staging/, components/ and whatever else of the workspace lies outside a datastore in
it), whatever datastore holds the workspace: a ``local`` datastore over $HOME holds the default
workspace (~/.local/share/runner). Nor may an output hold the workspace (the datastore's root, a folder
above the workspace). A datastore whose root lies inside the workspace (the default one) stays writable
below its root. Checked when a job is planned and again when it starts (``WriteGuard.refuse``).

Every workspace, datastore and link here is the test's own, in its tmp folder; each link points inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.modes import Mode
from runner.spec.data import Data
from runner.spec.load import spec_from_data
from runner.workspace.datastores import DatastoreStore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.protect import WriteGuard
from runner.workspace.registry import DataRegistry
from runner.workspace.resolve import Resolver

HOME = "azureml://datastores/home/paths"
RUNNER = f"{HOME}/.local/share/runner"
MODES = [Mode.UPLOAD, Mode.RW_MOUNT, Mode.DIRECT]
STATE = ["secrets", "secrets/datastore-other.json", "runner.db", "runner.db-wal", "runner.db-journal",
         "jobs", "jobs/another_job/outputs", "cache", "staging", "components", "datastores",
         "datastores/newfolder", ".space-reserve"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def ws(home: Path) -> Workspace:
    """The default layout: the workspace in ~/.local/share/runner, a local datastore over ~."""
    workspace = Workspace(home / ".local" / "share" / "runner")
    DatastoreStore(workspace).save(LocalDatastore(name="home", path=str(home)))
    return workspace


def _refusal(ws: Workspace, uri: str, mode: Mode, *, is_file: bool = False,
             job_name: str = "j1") -> str | None:
    resolver = Resolver(ws)
    output = resolver.resolve_output(uri, job_name=job_name, output_name="o")
    return WriteGuard(ws, resolver.datastores).refusal(output, job_name=job_name, mode=mode, is_file=is_file)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("place", STATE)
def test_no_output_lands_in_the_workspaces_state_through_a_datastore_holding_it(
        ws: Workspace, mode: Mode, place: str) -> None:
    why = _refusal(ws, f"{RUNNER}/{place}", mode, is_file="." in place)
    assert why is not None, place
    assert f"'{RUNNER}/{place}'" in why and str(ws.root) in why


@pytest.mark.parametrize("mode", MODES)
def test_the_refusal_names_what_the_place_is(ws: Workspace, mode: Mode) -> None:
    assert "the workspace's secrets" in (_refusal(ws, f"{RUNNER}/secrets", mode) or "")
    database = _refusal(ws, f"{RUNNER}/runner.db", mode, is_file=True) or ""
    assert ("holds the workspace" if mode is Mode.DIRECT else "the workspace's database") in database
    assert "other jobs' folders" in (_refusal(ws, f"{RUNNER}/jobs", mode) or "")
    assert "download cache" in (_refusal(ws, f"{RUNNER}/cache/x", mode) or "")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", [f"{HOME}/", HOME, f"{HOME}/.local", f"{HOME}/.local/share", RUNNER])
def test_an_output_holding_the_workspace_is_refused(ws: Workspace, mode: Mode, path: str) -> None:
    why = _refusal(ws, path, mode)
    assert why is not None and f"holds the workspace ({ws.root})" in why


@pytest.mark.parametrize("mode", MODES)
def test_host_paths_and_file_urls_there_are_refused(ws: Workspace, mode: Mode) -> None:
    assert _refusal(ws, str(ws.secrets_dir), mode) is not None
    assert _refusal(ws, f"file://{ws.jobs_dir}/other", mode) is not None
    assert _refusal(ws, str(ws.root.parent), mode) is not None  # holds it


@pytest.mark.parametrize("mode", MODES)
def test_a_link_in_the_datastore_leading_into_the_workspace_is_refused(ws: Workspace, home: Path,
                                                                        mode: Mode) -> None:
    (home / "keys").symlink_to(ws.secrets_dir)  # inside this test's own tmp folder
    (home / "up").symlink_to(ws.root.parent)
    assert "the workspace's secrets" in (_refusal(ws, f"{HOME}/keys", mode) or "")
    assert "holds the workspace" in (_refusal(ws, f"{HOME}/up", mode) or "")


@pytest.mark.parametrize("mode", MODES)
def test_what_lies_beside_the_workspace_and_in_its_datastores_stays_writable(ws: Workspace, home: Path,
                                                                             mode: Mode) -> None:
    assert _refusal(ws, f"{HOME}/projects/out", mode) is None
    assert _refusal(ws, f"{HOME}/.local/share/other", mode) is None
    assert _refusal(ws, f"{HOME}/.local/share/runner2", mode) is None
    assert _refusal(ws, "azureml://datastores/workspaceblobstore/paths/scratch/out", mode) is None
    assert _refusal(ws, "azureml://datastores/workspaceblobstore/paths/azureml/j1/o", mode,
                    job_name="j1") is None  # the job's own default place
    assert _refusal(ws, f"{RUNNER}/datastores/workspaceblobstore/scratch/out", mode) is None
    (ws.datastores_dir / "mine").mkdir()
    DatastoreStore(ws).save(LocalDatastore(name="mine", path=str(ws.datastores_dir / "mine")))
    assert _refusal(ws, "azureml://datastores/mine/paths/out", mode) is None


@pytest.mark.parametrize("mode", MODES)
def test_a_datastore_over_the_workspace_itself_opens_none_of_it(ws: Workspace, mode: Mode) -> None:
    DatastoreStore(ws).save(LocalDatastore(name="wsroot", path=str(ws.root)))
    assert _refusal(ws, "azureml://datastores/wsroot/paths/notes", mode) is not None
    assert "secrets" in (_refusal(ws, "azureml://datastores/wsroot/paths/secrets", mode) or "")
    assert _refusal(ws, "azureml://datastores/wsroot/paths/datastores/workspaceblobstore/x", mode) is None


def _spec(path: str, *, kind: str = "uri_folder", mode: str = "upload") -> object:
    return spec_from_data({"command": "echo planted > ${{outputs.o}}/planted.txt",
                           "environment": {"image": "runner/busybox:latest"},
                           "outputs": {"o": {"type": kind, "mode": mode, "path": path}}})


@pytest.mark.parametrize(("path", "kind", "mode"), [
    (f"{RUNNER}/secrets", "uri_folder", "upload"), (f"{RUNNER}/runner.db", "uri_file", "upload"),
    (f"{RUNNER}/jobs", "uri_folder", "rw_mount"), (f"{RUNNER}/secrets", "uri_folder", "direct"),
    (f"{HOME}/", "uri_folder", "rw_mount")])
def test_planning_refuses_with_one_error_and_a_hint(ws: Workspace, path: str, kind: str, mode: str) -> None:
    with pytest.raises(SpecError) as refused:
        plan_job(_spec(path, kind=kind, mode=mode), workspace=ws, job_name="j1")  # type: ignore[arg-type]
    err = refused.value
    assert err.field == "outputs.o.path" and err.message.startswith("output 'o' cannot be written there: ")
    assert path in err.message and str(ws.root) in err.message
    assert err.hint is not None and "RUNNER_WORKSPACE" in err.hint
    assert "does not hold the workspace" in err.hint


def test_it_is_refused_again_when_the_job_starts(ws: Workspace, home: Path) -> None:
    plan = plan_job(_spec(f"{HOME}/later"), workspace=ws, job_name="queued1")  # type: ignore[arg-type]
    (home / "later").symlink_to(ws.secrets_dir)  # what another job's direct output could leave
    with pytest.raises(SpecError, match="the workspace's secrets") as refused:
        resolve_stored_plan(ws, plan)
    assert refused.value.field == "outputs.o" and "RUNNER_WORKSPACE" in (refused.value.hint or "")


def test_the_exact_registered_version_is_named_then_the_nearest(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    shared = ws.default_datastore_root / "shared"
    (shared / "v2" / "deep").mkdir(parents=True)
    (shared / "v2" / "deep" / "f.csv").write_text("a\n")
    data = DataRegistry(ws)
    base = "azureml://datastores/workspaceblobstore/paths/shared"
    data.create(Data(name="d-ds", version="1", path=base))
    data.create(Data(name="d-ds", version="2", path=f"{base}/v2"))
    data.create(Data(name="d-ds", version="3", path=f"{base}/v2/deep"))
    assert "d-ds:2 is stored" in (_refusal(ws, f"{base}/v2", Mode.UPLOAD) or "")
    assert "d-ds:2 is stored" in (_refusal(ws, f"{base}/v2/other", Mode.UPLOAD) or "")
    assert "d-ds:3 is stored" in (_refusal(ws, f"{base}/v2/deep/x", Mode.UPLOAD) or "")
    assert "d-ds:1 is stored" in (_refusal(ws, base, Mode.UPLOAD) or "")
    assert "d-ds:1 is stored" in (_refusal(ws, "azureml://datastores/workspaceblobstore/paths/", Mode.UPLOAD)
                                  or "")



@pytest.mark.parametrize("mode", [Mode.UPLOAD, Mode.RW_MOUNT])
def test_a_link_in_the_workspace_leading_out_is_refused_as_written(ws: Workspace, tmp_path: Path,
                                                                    mode: Mode) -> None:
    (tmp_path / "elsewhere").mkdir()
    (ws.jobs_dir / "out").symlink_to(tmp_path / "elsewhere")  # inside this test's own tmp folder
    why = _refusal(ws, f"{RUNNER}/jobs/out", mode)
    assert why is not None and "jobs/" in why
