"""Resolution of every path format against a local workspace, and its errors."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import fsspec
import pytest

from runner.errors import ResolveError, SpecError
from runner.modes import PathKind
from runner.spec.model import Model
from runner.workspace.datastores import FsspecDatastore, LocalDatastore
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.registry import ModelRegistry
from runner.workspace.resolve import Resolver


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def resolver(ws: Workspace) -> Resolver:
    return Resolver(ws)


def _put(root: Path, rel: str, data: bytes = b"x") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_local_relative_to_base_dir_and_absolute(tmp_path: Path, resolver: Resolver) -> None:
    model = _put(tmp_path / "spec", "mlflow-model/model.pkl")
    rel = resolver.resolve("mlflow-model/model.pkl", base_dir=tmp_path / "spec")
    assert rel.kind is PathKind.FILE and rel.local_path == model and rel.url == f"file://{model}"
    assert rel.cache_key and rel.cache_key.startswith("file:")
    folder = resolver.resolve(str(model.parent), base_dir=None)
    assert folder.kind is PathKind.FOLDER and folder.cache_key is None
    assert resolver.resolve(f"file://{model}").local_path == model


def test_missing_local_path_names_the_folder_contents(tmp_path: Path, resolver: Resolver) -> None:
    _put(tmp_path / "spec", "mlflow-model/model.pkl")
    with pytest.raises(ResolveError) as info:
        resolver.resolve("mlflow-model/modle.pkl", base_dir=tmp_path / "spec", field="inputs.m.path")
    text = info.value.render()
    assert "inputs.m.path" in text and "does not exist" in text and "model.pkl" in text


def test_default_datastore_path(ws: Workspace, resolver: Resolver) -> None:
    _put(ws.default_datastore_root, "models/cifar10/cifar.pt", b"abc")
    rp = resolver.resolve("azureml://datastores/workspaceblobstore/paths/models/cifar10/cifar.pt")
    assert rp.kind is PathKind.FILE
    assert rp.uri == "azureml://datastores/workspaceblobstore/paths/models/cifar10/cifar.pt"
    assert rp.local_path == ws.default_datastore_root / "models/cifar10/cifar.pt"
    store = f"workspaceblobstore@file://{ws.default_datastore_root.resolve()}"  # the datastore and its folder
    assert rp.cache_key and rp.cache_key.startswith(f"{store}:models/cifar10/cifar.pt:")
    with rp.fs.open(rp.path, "rb") as handle:
        assert handle.read() == b"abc"
    folder = resolver.resolve("azureml://datastores/workspaceblobstore/paths/models/")
    assert folder.kind is PathKind.FOLDER and folder.url.startswith("file:///")


def test_other_local_datastore(tmp_path: Path, resolver: Resolver) -> None:
    _put(tmp_path / "store", "data/a.csv")
    resolver.datastores.save(LocalDatastore(name="mystore", path=str(tmp_path / "store")))
    rp = resolver.resolve("azureml://datastores/mystore/paths/data/a.csv")
    assert rp.local_path == tmp_path / "store" / "data" / "a.csv"


@pytest.mark.parametrize("path", ["../secret", "a/../../secret", ".."])
def test_traversal_out_of_datastore_refused(resolver: Resolver, path: str) -> None:
    with pytest.raises(ResolveError) as info:
        resolver.resolve(f"azureml://datastores/workspaceblobstore/paths/{path}")
    assert "escapes the root of datastore 'workspaceblobstore'" in info.value.render()


def test_unknown_datastore_lists_existing(resolver: Resolver) -> None:
    with pytest.raises(ResolveError) as info:
        resolver.resolve("azureml://datastores/myblobstore/paths/x")
    assert "unknown datastore 'myblobstore'" in info.value.message
    assert "workspaceblobstore" in info.value.message


def test_job_outputs_and_runs(ws: Workspace, resolver: Resolver) -> None:
    _put(ws.default_datastore_root, "azureml/job1/trained-model/cifar.pt")
    _put(ws.default_datastore_root, "ExperimentRun/dcid.job1/model/MLmodel")
    ws.create_job(JobRecord(name="job1", outputs={
        "trained-model": "azureml://datastores/workspaceblobstore/paths/azureml/job1/trained-model/"}))
    named = resolver.resolve("azureml://jobs/job1/outputs/trained-model")
    assert named.kind is PathKind.FOLDER and named.job == "job1"
    file = resolver.resolve("azureml://jobs/job1/outputs/trained-model/paths/cifar.pt")
    assert file.kind is PathKind.FILE
    assert file.uri == "azureml://datastores/workspaceblobstore/paths/azureml/job1/trained-model/cifar.pt"
    runs = resolver.resolve("runs:/job1/model/")
    artifacts = resolver.resolve("azureml://jobs/job1/outputs/artifacts/paths/model/")
    assert runs.uri == artifacts.uri == "azureml://datastores/workspaceblobstore/paths/ExperimentRun/dcid.job1/model"
    assert runs.job == "job1"


def test_job_errors(ws: Workspace, resolver: Resolver) -> None:
    ws.create_job(JobRecord(name="job1"))
    with pytest.raises(ResolveError) as info:
        resolver.resolve("azureml://jobs/nojob/outputs/x")
    assert "unknown job 'nojob'" in info.value.message and "job1" in info.value.message
    with pytest.raises(ResolveError) as info:
        resolver.resolve("azureml://jobs/job1/outputs/missing")
    assert "no output named 'missing'" in info.value.message and "artifacts" in info.value.message
    with pytest.raises(ResolveError):
        resolver.resolve("azureml://jobs/job1/outputs/artifacts/paths/../../x")


def test_model_references(tmp_path: Path, ws: Workspace, resolver: Resolver) -> None:
    model_dir = tmp_path / "m"
    _put(model_dir, "weights.bin")
    registry = ModelRegistry(ws, resolver=resolver)
    registry.create(Model(name="m", path=str(model_dir)))
    registry.create(Model(name="m", path=str(model_dir)))
    v1 = resolver.resolve("azureml:m:1")
    assert v1.model == ("m", "1") and v1.cache_key == "model:m:1" and v1.kind is PathKind.FOLDER
    latest = resolver.resolve("azureml:m@latest")
    assert latest.model == ("m", "2")
    assert "LocalUpload/m/2/m" in latest.uri
    registry_ref = resolver.resolve("azureml://registries/myreg/models/m/versions/1")
    assert registry_ref.model == ("m", "1") and registry_ref.cache_key == "model:m:1"  # the workspace's
    ModelRegistry(ws, resolver=resolver, registry_name="myreg").create(Model(name="m", path=str(model_dir)))
    in_registry = resolver.resolve("azureml://registries/myreg/models/m/versions/1")
    assert in_registry.cache_key == "model:myreg/m:1"  # not the workspace's m:1 in the download cache
    with pytest.raises(ResolveError) as info:
        resolver.resolve("azureml:nomodel:1")
    assert info.value.message == "unknown model 'nomodel'; models in this workspace: m"
    with pytest.raises(ResolveError) as info:
        resolver.resolve("azureml:m:9")
    assert info.value.message == "model 'm' has no version 9; its versions: 2, 1"


def test_fsspec_urls(resolver: Resolver) -> None:
    mem = fsspec.filesystem("memory")
    mem.pipe("/resolve-test/a.txt", b"hi")
    rp = resolver.resolve("memory://resolve-test/a.txt")
    assert rp.kind is PathKind.FILE and rp.url == "memory://resolve-test/a.txt"
    resolver.datastores.save(FsspecDatastore(name="mem", url="memory://resolve-test"))
    via_ds = resolver.resolve("azureml://datastores/mem/paths/a.txt")
    assert via_ds.kind is PathKind.FILE and via_ds.url.startswith("memory://")
    with pytest.raises(ResolveError) as info:
        resolver.resolve("nosuchproto://x/y")
    assert "nosuchproto" in info.value.message


def test_chained_fsspec_urls(resolver: Resolver, tmp_path: Path) -> None:
    """A chained URL is fsspec's, never a relative local path; a cache over a host file is refused."""
    fsspec.filesystem("memory").pipe("/chained-test/a.txt", b"hi")
    rp = resolver.resolve("simplecache::memory://chained-test/a.txt")
    assert rp.kind is PathKind.FILE and rp.local_path is None
    assert rp.uri == rp.url == "simplecache::memory://chained-test/a.txt"
    data = _put(tmp_path, "d.csv")
    with pytest.raises(SpecError, match="cache over this machine's files") as refused:
        resolver.resolve(f"simplecache::file://{data}")
    assert f"'{data}'" in (refused.value.hint or "")  # the plain path to give instead
    with pytest.raises(ResolveError) as info:
        resolver.resolve("nosuch::memory://chained-test/a.txt")
    assert info.value.message == \
        "cannot open 'nosuch::memory://chained-test/a.txt': Protocol not known: nosuch"
    assert "simplecache::s3://" in (info.value.hint or "") and "./<path>" in (info.value.hint or "")


def test_a_chained_url_names_the_link_without_a_backend(resolver: Resolver) -> None:
    if importlib.util.find_spec("ocifs") is not None:
        pytest.skip("ocifs is installed")
    with pytest.raises(ResolveError) as info:
        resolver.resolve("simplecache::oci://bucket@ns/key")
    assert info.value.message.startswith("no filesystem is installed for 'oci://' "
                                         "(simplecache::oci://bucket@ns/key)")
    assert "install the fsspec backend for oci" in (info.value.hint or "")


def test_output_locations(ws: Workspace, resolver: Resolver, tmp_path: Path) -> None:
    default = resolver.resolve_output(None, job_name="j", output_name="model")
    assert default.uri == "azureml://datastores/workspaceblobstore/paths/azureml/j/model"
    assert default.kind is PathKind.ANY
    assert default.local_path == ws.default_datastore_root / "azureml/j/model"
    explicit = resolver.resolve_output("out/dir", job_name="j", output_name="o", base_dir=tmp_path)
    assert explicit.local_path == tmp_path / "out" / "dir" and explicit.kind is PathKind.ANY
    with pytest.raises(SpecError):
        resolver.resolve_output("azureml:m:1", job_name="j", output_name="o")
    with pytest.raises(ResolveError):
        resolver.resolve("azureml://datastores/workspaceblobstore/paths/azureml/j/model")


def test_environments(resolver: Resolver) -> None:
    assert resolver.environments.image_for("runner/busybox:latest") == "runner/busybox:latest"
    with pytest.raises(ResolveError) as info:
        resolver.environments.image_for("azureml://registries/azureml/environments/lightgbm-3.3/labels/latest")
    assert "runner environment create --name lightgbm-3.3 --image" in (info.value.hint or "")
    assert resolver.environments.image_for(  # built in: the provisioned image holds its packages
        "azureml://registries/azureml/environments/sklearn-1.5/labels/latest") == "runner/python:3.11"
    resolver.environments.create("sklearn-1.5", image="runner/python:3.11")
    assert resolver.environments.image_for(
        "azureml://registries/azureml/environments/sklearn-1.5/labels/latest") == "runner/python:3.11"
    assert resolver.environments.image_for("azureml:sklearn-1.5@latest") == "runner/python:3.11"
    assert resolver.environments.image_for("azureml:sklearn-1.5:1") == "runner/python:3.11"
    with pytest.raises(ResolveError) as info:
        resolver.environments.image_for("AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9")
    assert "--version 9" in (info.value.hint or "")
    resolver.environments.create("AzureML-sklearn-0.24-ubuntu18.04-py37-cpu", version="9",
                                 image="runner/python:3.11")
    mapped = resolver.environments.image_for("AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9")
    assert mapped == "runner/python:3.11"


def test_environment_record_for_build_contexts(resolver: Resolver, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM runner/python:3.11\n")
    resolver.environments.create("built", build_context=tmp_path)
    assert resolver.environments.image_for("azureml:built:1") == "runner-env/built:1"
    record = resolver.environments.lookup("azureml:built@latest")
    assert record is not None and record.image is None and record.build_context == str(tmp_path)
    assert resolver.environments.lookup("runner/busybox:latest") is None
    # the build context travels in the plan: the run builds it without looking the environment up again
    assert resolver.environments.resolve_spec_environment("azureml:built:1") == ResolvedEnvironment(
        "runner-env/built:1", build_context=str(tmp_path))
    assert resolver.environments.resolve_spec_environment("runner/busybox:latest") == ResolvedEnvironment(
        "runner/busybox:latest")


def test_missing_input_path_in_a_job_file_says_file_line_field_and_fix(ws: Workspace, tmp_path: Path) -> None:
    from runner.jobs.submit import plan_job
    from runner.spec.load import load_job_spec

    yml = tmp_path / "job.yml"
    yml.write_text("command: ls ${{inputs.x}}\nenvironment: img\ninputs:\n  x:\n    type: uri_folder\n"
                   "    path: ./does-not-exist\n")
    (tmp_path / "data").mkdir()
    with pytest.raises(ResolveError) as info:
        plan_job(load_job_spec(yml), workspace=ws, job_name="j1")
    err = info.value
    assert (str(err.where), err.field) == (f"{yml}:6:5", "inputs.x.path")
    text = err.render()
    assert text.startswith(f"{yml}:6:5: inputs.x.path: '{tmp_path}/does-not-exist' does not exist")
    assert "must name an existing file or folder" in text
    assert "relative to the job YAML's folder" in text and "contains: data, job.yml" in text

    with pytest.raises(ResolveError) as info:  # a --set value is named as such, not the YAML line
        plan_job(load_job_spec(yml, ["inputs.x.path=nope"]), workspace=ws, job_name="j1")
    assert info.value.where is None
    assert info.value.field == "inputs.x.path (from --set inputs.x.path=nope)"


def test_unknown_datastore_of_an_output_points_at_its_path(ws: Workspace, tmp_path: Path) -> None:
    from runner.jobs.submit import plan_job
    from runner.spec.load import load_job_spec

    yml = tmp_path / "job.yml"
    yml.write_text("command: echo\nenvironment: img\noutputs:\n  o:\n"
                   "    path: azureml://datastores/nope/paths/out\n")
    with pytest.raises(ResolveError) as info:
        plan_job(load_job_spec(yml), workspace=ws, job_name="j1")
    assert info.value.render().startswith(f"{yml}:5:5: outputs.o.path: unknown datastore 'nope'")


def _fsspec_cache_key(prefix: str, path: Path) -> str:
    """What the cache key was when ``_stat`` asked fsspec's LocalFileSystem (before issue 21)."""
    info = fsspec.filesystem("file").info(str(path))
    return f"{prefix}{info['mtime']}:{info['size']}"


def test_local_paths_resolve_without_fsspec_to_the_same_kinds_and_cache_keys(
        tmp_path: Path, ws: Workspace, resolver: Resolver) -> None:
    """A path on this machine is looked at with ``os.stat`` (no fsspec import when planning): the same
    kind and cache key as fsspec's ``info`` gave, links followed, a dangling link missing, a FIFO
    refused, and ``fs`` still fsspec's local filesystem when asked for."""
    model = _put(tmp_path, "m/model.pkl", b"12345")
    (tmp_path / "link.pkl").symlink_to(model)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    rp = resolver.resolve(str(model))
    assert (rp.kind, rp.cache_key) == (PathKind.FILE, _fsspec_cache_key("file:", model))
    linked = resolver.resolve(str(tmp_path / "link.pkl"))
    assert (linked.kind, linked.cache_key) == (PathKind.FILE, _fsspec_cache_key("file:", model))
    assert resolver.resolve(str(tmp_path / "m")).kind is PathKind.FOLDER
    with pytest.raises(ResolveError, match="does not exist"):
        resolver.resolve(str(tmp_path / "dangling"))
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ResolveError, match="is a FIFO, not a file or folder"):
        resolver.resolve(str(tmp_path / "fifo"))
    assert isinstance(rp.fs, fsspec.implementations.local.LocalFileSystem)
    assert rp.fs.cat_file(rp.path) == b"12345"
    stored = _put(ws.default_datastore_root, "d/x.bin", b"ab")
    on_datastore = resolver.resolve("azureml://datastores/workspaceblobstore/paths/d/x.bin")
    store = f"workspaceblobstore@file://{ws.default_datastore_root.resolve()}"
    assert on_datastore.cache_key == _fsspec_cache_key(f"{store}:d/x.bin:", stored)
    assert isinstance(on_datastore.fs, fsspec.implementations.local.LocalFileSystem)
