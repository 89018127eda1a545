"""A ``direct`` input on a datastore caching a folder on this machine (``simplecache://<folder>`` with
``target_protocol: file`` in its storage options, ``filecache``, ``blockcache``, ``local``) is refused for
what is wrong: the data lives on this machine behind a cache, so the job would get a URL of this machine's
files (which its container cannot open, and through which it could write them). Its storage options are
no credentials, so "credentials that cannot be narrowed" is not the reason. The fix: ro_mount or
download. A remote fsspec datastore with storage options keeps its own reason. Everything lives in this
test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError, StorageError
from runner.jobs.submit import plan_job
from runner.spec.load import load_job_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

CACHES = [("simplecache", "file"), ("filecache", "file"), ("blockcache", "file"), ("simplecache", "local")]


def _datastore(root: Path, cache: str, target: str) -> FsspecDatastore:
    return FsspecDatastore(name="cached", url=f"{cache}://{root}",
                           storage_options={"target_protocol": target})


def _assert_reason(err: SpecError | StorageError, root: Path) -> None:
    assert "cannot be narrowed" not in err.message
    assert "datastore 'cached' caches a folder on this machine" in err.message and str(root) in err.message
    assert "container cannot open" in err.message
    assert err.hint is not None and "mode: ro_mount" in err.hint and "mode: download" in err.hint


@pytest.mark.parametrize(("cache", "target"), CACHES)
def test_the_datastore_says_why_a_direct_input_cannot_read_it(tmp_path: Path, cache: str,
                                                              target: str) -> None:
    with pytest.raises(SpecError) as refused:
        _datastore(tmp_path / "cached", cache, target).direct_env(write=False)
    _assert_reason(refused.value, tmp_path / "cached")


@pytest.mark.parametrize(("cache", "target"), CACHES)
def test_job_validate_refuses_the_input_at_its_path_line(tmp_path: Path, cache: str, target: str) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cached" / "d").mkdir(parents=True)
    Resolver(ws).datastores.save(_datastore(tmp_path / "cached", cache, target))
    job = tmp_path / "spec" / "job.yml"
    job.parent.mkdir()
    job.write_text("command: ls ${{inputs.d}}\nenvironment: {image: busybox:latest}\ninputs:\n"
                   "  d: {type: uri_folder, path: azureml://datastores/cached/paths/d, mode: direct}\n")
    with pytest.raises(SpecError) as refused:
        plan_job(load_job_spec(job), workspace=ws, job_name="v1")
    err = refused.value
    assert err.field == "inputs.d.path" and err.where is not None and err.where.line == 4
    _assert_reason(err, tmp_path / "cached")


def test_a_remote_datastore_with_storage_options_keeps_its_reason() -> None:
    remote = FsspecDatastore(name="s3", url="s3://bucket/prefix", storage_options={"key": "k", "secret": "s"})
    with pytest.raises(StorageError, match="credentials that cannot be narrowed"):
        remote.direct_env(write=False)


def test_a_direct_output_on_the_same_datastore_still_gets_its_options(tmp_path: Path) -> None:
    """Writing: the job is given the storage options (the container refusal is ``direct_host``'s)."""
    cached = _datastore(tmp_path / "cached", "simplecache", "file")
    assert cached.direct_env(write=True) == {"FSSPEC_SIMPLECACHE": '{"target_protocol": "file"}'}
