"""A ``direct`` input never hands a job a URL of this machine's files, on any backend: a job given
``simplecache::file:///<folder>/x`` (or ``filecache::``, ``blockcache::``, ``cached::``, ``local://``; an
archive here, ``zip://<member>::file:///<archive>``, a cache over it, ``tar://``) opens it in place and can
write through it (fsspec's caches write back to the file; ``zip`` appends with ``mode: a``), so inputs
would not be read-only. So ``job validate``/``job create`` refuse it on the ``process`` backend too, as one
error at the input's ``path:`` line naming the reason and the fix (``ro_mount`` or ``download``), for a
datastore as for a path written in the job. A plain folder here (a ``file://``/``local://`` datastore, a
path) is handed as a path the job sees read-only: it plans. Outputs are the job's to write: unchanged.
Everything lives in this test's tmp_path."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import SpecError
from runner.jobs.submit import check_submission, plan_job
from runner.modes import Mode
from runner.pipelines.submit import plan_pipeline
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

# datastore name -> (url, storage options, what the error says of it); {root}: a folder, {zip}: an archive
STORES = {
    "simple": ("simplecache::file://{root}", {}, "caches a folder on this machine"),
    "filec": ("filecache::file://{root}", {}, "caches a folder on this machine"),
    "block": ("blockcache::file://{root}", {}, "caches a folder on this machine"),
    "cachedc": ("cached::file://{root}", {}, "caches a folder on this machine"),
    "localc": ("simplecache::local://{root}", {}, "caches a folder on this machine"),
    "target": ("simplecache://{root}", {"target_protocol": "file"}, "caches a folder on this machine"),
    "archive": ("zip://::file://{zip}", {}, "reads an archive on this machine"),
    "cachedzip": ("simplecache::zip://::file://{zip}", {}, "reads an archive on this machine"),
}
# paths written in the job, reading a file here through fsspec ({tmp}: this test's folder)
URLS = ["zip://d::file://{tmp}/d.zip", "simplecache::zip://d::file://{tmp}/d.zip", "tar://d::file://{tmp}/d.tar",
        "zip://d::local://{tmp}/d.zip"]
# paths the job is given as a path, seen read-only: they plan
PLAIN = ["azureml://datastores/folder/paths/d", "azureml://datastores/localds/paths/d", "{tmp}/cached/d",
         "file://{tmp}/cached/d"]
BACKENDS = ["process", None]  # None: the job's compute's, a container (docker)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "cached"
    (root / "d").mkdir(parents=True)
    (root / "d" / "a.txt").write_text("cached\n")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("d/a.txt", "zipped\n")
    with tarfile.open(tmp_path / "d.tar", "w") as archive:
        archive.add(root / "d", arcname="d")
    datastores = Resolver(workspace).datastores
    for name, (url, options, _) in STORES.items():
        datastores.save(FsspecDatastore(name=name, url=url.format(root=root, zip=tmp_path / "d.zip"),
                                        storage_options=options))
    datastores.save(FsspecDatastore(name="folder", url=f"file://{root}"))
    datastores.save(FsspecDatastore(name="localds", url=f"local://{root}"))
    return workspace


def _job(folder: Path, path: str, extra: str = "") -> Path:
    job = folder / "spec" / "job.yml"
    job.parent.mkdir(parents=True, exist_ok=True)
    job.write_text("command: ls ${{inputs.d}}\nenvironment: {image: busybox:latest}\ninputs:\n"
                   f"  d: {{type: uri_folder, path: \"{path}\", mode: direct}}\n{extra}")
    return job


def _validate(ws: Workspace, job: Path, backend: str | None) -> None:
    spec = load_job_spec(job)
    check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=backend)


def _assert_refused(err: SpecError, *, reason: str) -> None:
    assert err.field == "inputs.d.path" and err.where is not None and err.where.line == 4, err.render()
    assert reason in err.message and "this machine" in err.message and "write" in err.message
    assert "cannot be narrowed" not in err.message
    assert err.hint is not None and "mode: ro_mount" in err.hint and "mode: download" in err.hint
    assert "process" not in err.hint  # the process backend refuses it too: no way out there


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("store", sorted(STORES))
def test_a_direct_input_on_a_datastore_reading_files_here_is_refused(ws: Workspace, tmp_path: Path,
                                                                     store: str, backend: str | None) -> None:
    with pytest.raises(SpecError) as refused:
        _validate(ws, _job(tmp_path, f"azureml://datastores/{store}/paths/d"), backend)
    _assert_refused(refused.value, reason=f"datastore '{store}' {STORES[store][2]}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("url", URLS)
def test_a_direct_input_on_a_url_over_a_file_here_is_refused(ws: Workspace, tmp_path: Path, url: str,
                                                             backend: str | None) -> None:
    with pytest.raises(SpecError) as refused:
        _validate(ws, _job(tmp_path, url.format(tmp=tmp_path)), backend)
    _assert_refused(refused.value, reason="is a file on this machine")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", PLAIN)
def test_a_direct_input_given_as_a_path_here_still_plans(ws: Workspace, tmp_path: Path, path: str,
                                                         backend: str | None) -> None:
    spec = load_job_spec(_job(tmp_path, path.format(tmp=tmp_path)))
    plan = plan_job(spec, workspace=ws, job_name="v1")
    check_submission(spec, plan, backend=backend)
    assert plan.inputs[0].mode is Mode.DIRECT and plan.inputs[0].value == str(tmp_path / "cached" / "d")


def test_an_input_on_the_datastore_a_direct_output_writes_is_refused_too(ws: Workspace,
                                                                         tmp_path: Path) -> None:
    """The output's URL is the job's to write; the input's is not, even on the same datastore."""
    out = "outputs:\n  o: {type: uri_folder, path: azureml://datastores/simple/paths/o, mode: direct}\n"
    with pytest.raises(SpecError) as refused:
        _validate(ws, _job(tmp_path, "azureml://datastores/simple/paths/d", out), "process")
    _assert_refused(refused.value, reason="is a file on this machine")


def test_a_direct_output_on_a_cache_here_still_plans_on_the_process_backend(ws: Workspace,
                                                                            tmp_path: Path) -> None:
    job = tmp_path / "spec" / "out.yml"
    job.parent.mkdir(parents=True)
    job.write_text("command: ls ${{outputs.o}}\nenvironment: {image: busybox:latest}\noutputs:\n"
                   "  o: {type: uri_folder, path: azureml://datastores/simple/paths/o, mode: direct}\n")
    _validate(ws, job, "process")


@pytest.mark.parametrize("store", ["simple", "archive"])
def test_the_datastore_refuses_a_read_only_direct_binding_itself(tmp_path: Path, store: str) -> None:
    """``direct_env(write=False)``, also asked when the job starts: refused with no storage options too."""
    url, options, reason = STORES[store]
    datastore = FsspecDatastore(name=store, url=url.format(root=tmp_path, zip=tmp_path / "d.zip"),
                                storage_options=options)
    with pytest.raises(SpecError, match=f"datastore '{store}' {reason}"):
        datastore.direct_env(write=False)
    assert datastore.direct_env(write=True) == {}  # a direct output: the job's to write


def test_a_remote_fsspec_datastore_without_options_gives_a_direct_input_nothing() -> None:
    assert FsspecDatastore(name="s3", url="s3://bucket/prefix").direct_env(write=False) == {}


def test_a_dependent_pipeline_step_on_the_process_backend_is_refused_at_validate(ws: Workspace,
                                                                                 tmp_path: Path) -> None:
    """A step that reads an upstream step's output, with a direct input on an archive here: refused before
    anything runs, on the process backend as its start would refuse it."""
    path = tmp_path / "spec" / "p.yml"
    path.parent.mkdir(parents=True)
    path.write_text(f"""\
type: pipeline
jobs:
  w:
    command: echo hi > ${{{{outputs.o}}}}/x
    environment: {{image: 'unused:1'}}
    outputs:
      o: {{mode: upload}}
  r:
    command: ls ${{{{inputs.i}}}} ${{{{inputs.z}}}}
    environment: {{image: 'unused:1'}}
    inputs:
      i: {{path: '${{{{parent.jobs.w.outputs.o}}}}', mode: ro_mount}}
      z: {{type: uri_folder, path: "zip://d::file://{tmp_path}/d.zip", mode: direct}}
""")
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p", backend="process")
    err = refused.value
    assert err.field == "jobs.r.inputs.z.path" and err.where is not None and err.where.line == 13
    assert "is a file on this machine" in err.message and err.hint and "mode: ro_mount" in err.hint


def test_job_validate_refuses_it_on_the_process_backend_as_one_located_error(ws: Workspace,
                                                                             tmp_path: Path) -> None:
    job = _job(tmp_path, "azureml://datastores/simple/paths/d", "compute: local-process\n")
    result = cli(ws.root, "job", "validate", "--file", str(job))
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {job}:4:") and "inputs.d.path" in lines[0], result.stderr
    assert "datastore 'simple' caches a folder on this machine" in lines[0]
    assert "hint: use mode: ro_mount or mode: download" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
