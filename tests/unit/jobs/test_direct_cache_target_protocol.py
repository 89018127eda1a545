"""A datastore caching a folder on this machine written without a ``file://`` link in its URL
(``simplecache://<folder>`` with ``target_protocol: file`` in its storage options, ``filecache``,
``blockcache``, ``local``) gives a ``direct`` output the URL of a host file, as ``simplecache::file://``
does: the job's container cannot open it, so ``job validate`` (and ``job create``) refuse it at its
``path:`` line for a container job, and it plans on the ``process`` backend. Everything lives in this
test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import check_submission, plan_job
from runner.spec.load import load_job_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

CACHES = [("simplecache", "file"), ("filecache", "file"), ("blockcache", "file"), ("simplecache", "local")]


def _setup(tmp_path: Path, cache: str, target: str) -> tuple[Workspace, Path]:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cached").mkdir()
    Resolver(ws).datastores.save(FsspecDatastore(name="cached", url=f"{cache}://{tmp_path}/cached",
                                                 storage_options={"target_protocol": target}))
    job = tmp_path / "spec" / "job.yml"
    job.parent.mkdir()
    job.write_text("command: echo ${{outputs.d}}\nenvironment: {image: busybox:latest}\noutputs:\n"
                   "  d: {type: uri_file, path: azureml://datastores/cached/paths/b.txt, mode: direct}\n")
    return ws, job


@pytest.mark.parametrize(("cache", "target"), CACHES)
def test_direct_on_a_cache_with_a_host_target_is_refused_for_a_container(tmp_path: Path, cache: str,
                                                                         target: str) -> None:
    ws, job = _setup(tmp_path, cache, target)
    spec = load_job_spec(job)
    with pytest.raises(SpecError) as refused:
        check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=None)
    err = refused.value
    assert err.field == "outputs.d.path" and err.where is not None and err.where.line == 4
    assert "container cannot open it" in err.message and str(tmp_path / "cached" / "b.txt") in err.message
    assert err.hint is not None and "mode: upload" in err.hint and "process" in err.hint


@pytest.mark.parametrize(("cache", "target"), CACHES)
def test_direct_on_a_cache_with_a_host_target_plans_on_the_process_backend(tmp_path: Path, cache: str,
                                                                           target: str) -> None:
    ws, job = _setup(tmp_path, cache, target)
    spec = load_job_spec(job)
    assert check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend="process") == "process"
