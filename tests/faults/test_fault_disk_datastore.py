"""A full disk under the local datastore, not under the job: the workspace's default datastore is an 8 MiB
tmpfs of the test, and a job whose command succeeds writes a 12 MB model output (with ``name`` and
``version``) there. Moving it into place fails: the job ends Failed saying "no space left on <the
datastore's mount>" with what to do (never a bare "[Errno 28]"), the staged data is kept whole, no
partial copy is left in the datastore, and no model version is registered to point at what is not there.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_support import one_clear_message
from jobs_support import cli, containers_of, mounts_under, show, write_job

pytestmark = pytest.mark.docker


@pytest.fixture
def full_datastore(ws: Path) -> Iterator[Path]:
    """The workspace's default datastore folder, an 8 MiB tmpfs of this test alone."""
    if os.geteuid() != 0:  # as conftest.py's small_disk: a failure under CI=true
        message = "the disk-full tests mount a small tmpfs, which needs root"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    cli(ws, "job", "list", check=True)  # the workspace is made, its datastore folder with it
    point = ws / "datastores" / "workspaceblobstore"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point)], check=True)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_an_output_that_does_not_fit_the_datastore_is_kept_and_registers_nothing(
        ws: Path, full_datastore: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: >-
          head -c 12000000 /dev/urandom > ${{outputs.m}}/model.bin && echo flavors > ${{outputs.m}}/MLmodel
        outputs:
          m: {type: custom_model, mode: upload, name: big, version: "1"}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "full1")
    assert result.returncode == 1
    record = show(ws, "full1")
    assert record["status"] == "Failed" and record["exit_code"] == 0
    error = record["error"]
    staged = ws / "jobs" / "full1" / "outputs" / "m"
    written = full_datastore / "azureml" / "full1" / "m" / "model.bin"
    assert f"model.bin: no space left on {full_datastore} (writing {written})" in error
    assert "Errno" not in error
    assert "hint: free space on the datastore's disk, then move the staged data into place" in error
    assert f"staged data kept at: {staged}" in error
    assert (staged / "model.bin").stat().st_size == 12000000  # kept whole
    left = [p.name for p in full_datastore.rglob("*") if p.is_file()]
    assert "model.bin" not in left and not [name for name in left if name.endswith(".partial")]
    assert "big" not in cli(ws, "model", "list", check=True).stdout  # no version pointing at nothing
    one_clear_message(result.stderr + error)
    assert containers_of(docker_client, "full1") == []
    assert mounts_under(ws) == [str(full_datastore)]  # the test's tmpfs, and no mount of the job's
