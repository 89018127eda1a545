"""An input on a local datastore never reads through a link an earlier job left there that leads out of
the datastore's folder, in any mode, when the job is planned and again when it starts.

Every job runs in a container of this test's throwaway workspace; the datastore is a folder in this
test's tmp folder, and the planted link points at a decoy folder the test made there too. The test
itself never follows the link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, make_tree, show, tree_without_links, write_job

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace

pytestmark = pytest.mark.docker

MODES = ["download", "ro_mount", "direct"]
DECOY = {"secret.txt": b"DECOY-CONTENT\n", "sub/other.txt": b"more decoy\n"}


def _team_store(ws: Path, tmp_path: Path) -> Path:
    store = tmp_path / "store"
    make_tree(store, {"shared/data/hello.txt": b"hello from the datastore\n"})
    spec = write_job(tmp_path, f"name: team\ntype: local\npath: {store}\n", name="store.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    return store


def _plant(ws: Path, tmp_path: Path, link: str, to: str, name: str) -> None:
    """A job whose direct output on the datastore makes the link (as any team member's job can)."""
    job = write_job(tmp_path, f"""
        command: ln -s {to} ${{{{outputs.d}}}}/{link}
        outputs:
          d: {{type: uri_folder, path: azureml://datastores/team/paths/shared, mode: direct}}
        environment: {{image: runner/busybox:latest}}
        """, name=f"{name}.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr


def _reader(tmp_path: Path, path: str, mode: str) -> Path:
    return write_job(tmp_path, f"""
        command: cat ${{{{inputs.x}}}}/secret.txt ${{{{inputs.x}}}}/hello.txt
        inputs:
          x: {{type: uri_folder, path: "{path}", mode: {mode}}}
        environment: {{image: runner/busybox:latest}}
        """, name=f"read-{mode}.yml")


def test_an_input_through_a_planted_link_out_of_the_datastore_is_refused(workspace_dir: Path,
                                                                         tmp_path: Path) -> None:
    ws = workspace_dir
    store = _team_store(ws, tmp_path)
    decoy = tmp_path / "decoy"
    make_tree(decoy, DECOY)
    before = tree_without_links(decoy)
    _plant(ws, tmp_path, "x", str(decoy), "planter")
    assert (store / "shared" / "x").is_symlink()
    for mode in MODES:
        job = _reader(tmp_path, "azureml://datastores/team/paths/shared/x", mode)
        for command in ("validate", "create"):
            args = ["job", command, "--file", str(job)] + (["--stream"] if command == "create" else [])
            result = cli(ws, *args)
            out = result.stdout + result.stderr
            assert result.returncode == 2, (mode, command, out)
            assert "inputs.x.path: input 'x' cannot be read" in result.stderr, out
            assert f"the link {store}/shared/x -> {decoy}" in result.stderr, out
            assert "leads out of local datastore 'team'" in result.stderr, out
            assert "hint: remove the link" in result.stderr, out
            assert "DECOY-CONTENT" not in out and "Traceback" not in out
    assert tree_without_links(decoy) == before


@pytest.mark.parametrize("mode", MODES)
def test_a_link_that_stays_inside_the_datastore_is_read(workspace_dir: Path, tmp_path: Path,
                                                        mode: str) -> None:
    ws = workspace_dir
    store = _team_store(ws, tmp_path)
    (store / "shared" / "data" / "secret.txt").write_text("inside\n")
    _plant(ws, tmp_path, "alias", "data", f"planter-{mode.replace('_', '-')}")
    job = _reader(tmp_path, "azureml://datastores/team/paths/shared/alias", mode)
    name = f"inside-{mode.replace('_', '-')}"
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert show(ws, name)["status"] == "Completed"
    log = (ws / "jobs" / name / "user_logs" / "std_log.txt").read_text()
    assert "inside" in log and "hello from the datastore" in log


@pytest.mark.parametrize("mode", MODES)
def test_a_link_planted_after_planning_is_refused_when_the_job_starts(workspace_dir: Path, tmp_path: Path,
                                                                      mode: str) -> None:
    ws_path = workspace_dir
    store = _team_store(ws_path, tmp_path)
    decoy = tmp_path / "decoy"
    make_tree(decoy, DECOY)
    ws = Workspace(ws_path)
    spec = spec_from_data({"command": "cat ${{inputs.x}}/secret.txt",
                           "environment": {"image": "runner/busybox:latest"},
                           "inputs": {"x": {"type": "uri_folder", "mode": mode,
                                            "path": "azureml://datastores/team/paths/shared/later"}}})
    (store / "shared" / "later").mkdir()
    plan = plan_job(spec, workspace=ws, job_name="queued-later")  # accepted: a plain folder then
    (store / "shared" / "later").rmdir()
    (store / "shared" / "later").symlink_to(decoy)  # what another job's direct output could do
    with pytest.raises(SpecError, match="leads out of local datastore 'team'") as err:
        resolve_stored_plan(ws, plan)
    assert err.value.field == "inputs.x.path"
