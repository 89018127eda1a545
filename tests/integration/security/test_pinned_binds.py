"""A folder on a local datastore is checked, then bound: a link swapped in between (by a job running at
the same moment with a ``direct`` output above it) must change nothing. The runner pins what it checked
(``mounts.pin``) and Docker binds the pin.

Deterministic: the swap is made by the test right before the container is created (``DockerBackend.start``
wrapped), after every check. Everything is in this test's throwaway workspace and tmp folder; the link
points at a decoy folder the test made, which must stay untouched. The test never follows the link.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, make_tree, tree_without_links, write_job

from runner.backends.docker import DockerBackend
from runner.jobs.run import run_job
from runner.jobs.submit import submit_job
from runner.spec.load import spec_from_data
from runner.workspace.db import JobStatus, Workspace

pytestmark = pytest.mark.docker

DECOY = {"secret.txt": b"DECOY-CONTENT\n"}


def _team_store(ws: Path, tmp_path: Path) -> Path:
    store = tmp_path / "store"
    make_tree(store, {"shared/in/secret.txt": b"the checked input\n", "shared/out/.keep": b""})
    spec = write_job(tmp_path, f"name: team\ntype: local\npath: {store}\n", name="store.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    return store


def _swap_before_start(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None], seen: list[Any]) -> None:
    start = DockerBackend.start

    def swapped_then_started(self: DockerBackend, spec: Any, image: Any) -> Any:
        swap()  # after every check, before Docker resolves a single bind source
        seen.extend(spec.mounts)
        return start(self, spec, image)

    monkeypatch.setattr(DockerBackend, "start", swapped_then_started)


def _run(ws_path: Path, name: str, data: dict[str, Any]) -> tuple[Any, str]:
    ws = Workspace(ws_path)
    submit_job(ws, spec_from_data({"environment": {"image": "runner/busybox:latest"}, **data}), name=name)
    record = run_job(ws, name, quiet=True)
    log = ws.job_dir(name).std_log
    return record, log.read_text() if log.is_file() else f"(no log) {record.error}"


def _swap_for_link(folder: Path, moved: Path, decoy: Path) -> Callable[[], None]:
    def swap() -> None:
        os.rename(folder, moved)
        os.symlink(decoy, folder)
    return swap


def test_a_direct_output_swapped_for_a_link_after_its_check_is_still_written_where_checked(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _team_store(workspace_dir, tmp_path)
    decoy = tmp_path / "decoy"
    make_tree(decoy, {**DECOY, "out/.keep": b""})  # by path, Docker would bind decoy/out
    before = tree_without_links(decoy)
    seen: list[Any] = []
    _swap_before_start(monkeypatch, _swap_for_link(store / "shared", store / "moved", decoy), seen)
    record, log = _run(workspace_dir, "pinned-out", {
        "command": "echo written > ${{outputs.d}}/result.txt && chmod 4755 ${{outputs.d}}/result.txt "
                   "&& ls ${{outputs.d}}",
        "outputs": {"d": {"type": "uri_folder", "mode": "direct",
                          "path": "azureml://datastores/team/paths/shared/out"}}})
    assert tree_without_links(decoy) == before  # nothing reached the decoy through the link
    assert (store / "moved" / "out" / "result.txt").read_text() == "written\n", log  # the checked folder
    assert (store / "moved" / "out" / "result.txt").stat().st_mode & 0o7777 == 0o755  # set-ID: cleared
    assert record.status is JobStatus.COMPLETED, record.error
    sources = [m.host_path for m in seen if m.container_path == str(store / "shared" / "out")]
    assert sources and all(s.startswith("/run/runner/pins/") for s in sources)
    assert not any(Path(s).exists() for s in sources)  # released once the container was gone


def test_an_input_swapped_for_a_link_after_its_check_is_still_the_checked_folder(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _team_store(workspace_dir, tmp_path)
    decoy = tmp_path / "decoy"
    make_tree(decoy, DECOY)
    before = tree_without_links(decoy)
    seen: list[Any] = []
    _swap_before_start(monkeypatch, _swap_for_link(store / "shared" / "in", store / "moved-in", decoy), seen)
    record, log = _run(workspace_dir, "pinned-in", {
        "command": "cat ${{inputs.x}}/secret.txt; touch ${{inputs.x}}/planted || echo READ-ONLY",
        "inputs": {"x": {"type": "uri_folder", "mode": "ro_mount",
                         "path": "azureml://datastores/team/paths/shared/in"}}})
    assert "the checked input" in log and "DECOY-CONTENT" not in log, log
    assert "READ-ONLY" in log and not (store / "moved-in" / "planted").exists()
    assert tree_without_links(decoy) == before
    assert record.status is JobStatus.COMPLETED, record.error
