"""A read-only input stays read-only below a mount nested in it (an NFS share, a tmpfs, a bind the user
made under their data folder): a real container job must not write through it.

Each test makes its input folder in its own tmp folder, mounts a tmpfs at a subfolder of it (unmounted in
``finally``), runs a real job (``runner/busybox:latest``) with that folder bound by each mode that binds the
host folder (``ro_mount``, ``download`` and ``direct`` of a local folder, and of a folder on a local
datastore), and checks that writing into the nested mount fails (read-only file system), the host's tmpfs
holds nothing new, and the host's own nested mount is still writable afterwards (only the runner's copies
were made read-only)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, make_tree, write_job

from runner.jobs.run import run_job
from runner.jobs.submit import submit_job
from runner.spec.load import spec_from_data
from runner.workspace.db import JobStatus, Workspace

pytestmark = [pytest.mark.docker, pytest.mark.root("mounts a tmpfs below an input folder")]

COMMAND = ("ls ${{inputs.x}}/nested; "
           "echo planted > ${{inputs.x}}/nested/planted && echo NESTED-WRITTEN || echo NESTED-REFUSED; "
           "echo planted > ${{inputs.x}}/top-planted && echo TOP-WRITTEN || echo TOP-REFUSED")


def _mount_options(point: Path) -> list[str] | None:
    """The per-mount options of the mount at ``point`` in this namespace (the topmost), None: none."""
    found = None
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            if fields[4] == str(point):
                found = fields[5].split(",")
    return found


@pytest.fixture()
def nested_input(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/store/shared/in`` holding a file, with a tmpfs (holding a file) at ``nested``."""
    folder = tmp_path / "store" / "shared" / "in"
    make_tree(folder, {"top.txt": b"top\n", "nested/.keep": b""})
    nested = folder / "nested"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0777", "runner-test-nested", str(nested)],
                   check=True)
    try:
        (nested / "on-tmpfs.txt").write_text("nested\n")
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(nested)], check=False)


def _run(ws_path: Path, name: str, path: str, mode: str) -> tuple[Any, str]:
    ws = Workspace(ws_path)
    submit_job(ws, spec_from_data({
        "environment": {"image": "runner/busybox:latest"}, "command": COMMAND,
        "inputs": {"x": {"type": "uri_folder", "mode": mode, "path": path}}}), name=name)
    record = run_job(ws, name, quiet=True)
    log = ws.job_dir(name).std_log
    return record, log.read_text() if log.is_file() else f"(no log) {record.error}"


@pytest.mark.parametrize("mode", ["ro_mount", "download", "direct"])
@pytest.mark.parametrize("where", ["local-folder", "datastore"])
def test_a_mount_nested_in_a_read_only_input_is_read_only_in_the_container(
        workspace_dir: Path, nested_input: Path, mode: str, where: str) -> None:
    store = nested_input.parent.parent
    if where == "datastore":
        spec = write_job(store.parent, f"name: team\ntype: local\npath: {store}\n", name="store.yml")
        cli(workspace_dir, "datastore", "create", "--file", str(spec), check=True)
        path = "azureml://datastores/team/paths/shared/in"
    else:
        path = str(nested_input)
    nested = nested_input / "nested"
    record, log = _run(workspace_dir, f"nested-{where}-{mode}".replace("_", "-"), path, mode)
    assert "on-tmpfs.txt" in log, log  # the nested mount is what the job saw
    assert "NESTED-REFUSED" in log and "NESTED-WRITTEN" not in log, log
    assert "Read-only file system" in log, log
    assert "TOP-REFUSED" in log, log
    assert sorted(p.name for p in nested.iterdir()) == ["on-tmpfs.txt"]  # nothing new on the host's tmpfs
    assert not (nested_input / "top-planted").exists()
    assert record.status is JobStatus.COMPLETED, record.error
    options = _mount_options(nested)
    assert options is not None and "rw" in options, options  # the user's own mount: untouched
    (nested / "host-can-write").write_text("yes\n")  # still writable on the host
