"""Every path format of the seed's "Supported paths" table parses into its typed reference."""

from __future__ import annotations

import pytest

from runner.errors import SpecError
from runner.uris import (
    ARTIFACTS,
    DatastorePath,
    EnvironmentRef,
    FsspecUrl,
    JobOutputPath,
    LocalPath,
    ModelRef,
    StorageUrl,
    parse_environment,
    parse_path,
    without_query,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("mlflow-model/model.pkl", LocalPath("mlflow-model/model.pkl")),
    ("/abs/model", LocalPath("/abs/model")),
    ("file:///abs/model", LocalPath("/abs/model")),
    ("azureml://datastores/myblobstore/paths/models/cifar10/cifar.pt",
     DatastorePath("myblobstore", "models/cifar10/cifar.pt")),
    ("azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/ds/paths/a/b/",
     DatastorePath("ds", "a/b")),
    ("azureml://jobs/job1/outputs/trained-model", JobOutputPath("job1", "trained-model", "")),
    ("azureml://jobs/job1/outputs/trained-model/paths/cifar.pt",
     JobOutputPath("job1", "trained-model", "cifar.pt")),
    ("azureml://jobs/job1/outputs/artifacts/paths/model/", JobOutputPath("job1", ARTIFACTS, "model")),
    ("runs:/job1/model/", JobOutputPath("job1", ARTIFACTS, "model")),
    ("azureml:my-model:3", ModelRef("my-model", version="3")),
    ("azureml:my-model@latest", ModelRef("my-model", label="latest")),
    ("azureml://registries/reg1/models/my-model/versions/2",
     ModelRef("my-model", version="2", registry="reg1")),
    ("abfs://container/path/x.bin", FsspecUrl("abfs://container/path/x.bin")),
    ("az://container/p", FsspecUrl("az://container/p")),
    ("s3://bucket/key", FsspecUrl("s3://bucket/key")),
    ("memory://x/y", FsspecUrl("memory://x/y")),
])
def test_parse_every_format(text: str, expected: object) -> None:
    assert parse_path(text) == expected


@pytest.mark.parametrize(("text", "account", "container", "path", "endpoint"), [
    ("wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv", "azuremlexamples", "datasets",
     "iris.csv", "https://azuremlexamples.blob.core.windows.net"),
    ("wasb://datasets@azuremlexamples.blob.core.windows.net/nyctaxi/", "azuremlexamples", "datasets",
     "nyctaxi", "http://azuremlexamples.blob.core.windows.net"),
    ("https://azuremlexamples.blob.core.windows.net/datasets/iris.csv", "azuremlexamples", "datasets",
     "iris.csv", "https://azuremlexamples.blob.core.windows.net"),
    ("abfss://fs@acct.dfs.core.windows.net/a/b", "acct", "fs", "a/b", "https://acct.blob.core.windows.net"),
    ("https://acct.dfs.core.chinacloudapi.cn/fs/x", "acct", "fs", "x", "https://acct.blob.core.chinacloudapi.cn"),
    ("http://127.0.0.1:10000/devstoreaccount1/c1/d/e.csv", "devstoreaccount1", "c1", "d/e.csv",
     "http://127.0.0.1:10000/devstoreaccount1"),
])
def test_azure_storage_urls(text: str, account: str, container: str, path: str, endpoint: str) -> None:
    assert parse_path(text) == StorageUrl(account, container, path, endpoint, text)
    assert str(parse_path(text)) == text  # shown as written when no datastore names its container


def test_other_urls_stay_fsspec_urls() -> None:
    assert parse_path("https://example.com/data/x.csv") == FsspecUrl("https://example.com/data/x.csv")
    with pytest.raises(SpecError, match="not a valid blob URL"):
        parse_path("wasbs://no-account-here/x")


def test_runs_equals_job_artifacts() -> None:
    assert parse_path("runs:/abc/model/") == parse_path("azureml://jobs/abc/outputs/artifacts/paths/model/")


def test_canonical_strings_round_trip() -> None:
    for text in ("azureml://datastores/ds/paths/a/b", "azureml://jobs/j/outputs/o/paths/p",
                 "azureml:m:1", "azureml:m@latest", "azureml://registries/r/models/m/versions/1"):
        assert str(parse_path(text)) == text


@pytest.mark.parametrize("text", ["", "azureml:m@best", "azureml://jobs/j", "runs:", "azureml:"])
def test_malformed_references_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="path")
    assert info.value.hint  # every refusal says what is allowed


def test_environment_references() -> None:
    assert parse_environment("azureml:sklearn-1.5@latest") == EnvironmentRef("sklearn-1.5", label="latest")
    assert parse_environment("azureml:env:2") == EnvironmentRef("env", version="2")
    assert parse_environment("azureml://registries/azureml/environments/sklearn-1.5/labels/latest") == \
        EnvironmentRef("sklearn-1.5", label="latest", registry="azureml")
    assert parse_environment("azureml://registries/r/environments/e/versions/3") == \
        EnvironmentRef("e", version="3", registry="r")
    assert parse_environment("python:3.11") is None


@pytest.mark.parametrize("text", [
    "http://127.0.0.1:10000/devstoreaccount1/c/up1?se=2030&sp=rl&sv=2021&sr=c&sig=SIGNATURE",
    "https://acct.blob.core.windows.net/c/p?sig=SIGNATURE",
    "abfss://fs@acct.dfs.core.windows.net/a?sig=SIGNATURE",
    "abfs://c/p?sig=SIGNATURE",
    "https://example.com/x.csv?X-Amz-Signature=SIGNATURE",
])
def test_a_url_with_a_query_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.i.path")
    rendered = info.value.render()
    assert "SIGNATURE" not in rendered and "?<query removed>" in rendered
    assert "inputs.i.path" in rendered and "azureml://datastores/<name>/paths/" in rendered


def test_without_query_keeps_everything_but_the_query() -> None:
    assert without_query("see https://a.blob.core.windows.net/c/p?sig=x&se=1 now") == \
        "see https://a.blob.core.windows.net/c/p?<query removed> now"
    assert without_query("./local/what?.csv") == "./local/what?.csv"


ARM = "azureml:/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"


@pytest.mark.parametrize(("text", "expected"), [
    (f"{ARM}/data/iris/versions/2", ModelRef("iris", version="2")),
    (f"{ARM}/models/clf/versions/7", ModelRef("clf", version="7")),
    (f"{ARM.replace('resourceGroups', 'resourcegroups')}/datasets/iris/versions/1",
     ModelRef("iris", version="1")),
    ("azureml://locations/westeurope/workspaces/0a1b-2c3d/data/iris/versions/2",
     ModelRef("iris", version="2")),
    ("azureml://locations/westeurope/workspaces/0a1b-2c3d/models/clf/versions/3",
     ModelRef("clf", version="3")),
])
def test_asset_ids_are_this_workspaces_asset(text: str, expected: ModelRef) -> None:
    """Azure's long asset IDs name ``<name>:<version>`` in a workspace; as with the long datastore form,
    the subscription, group and workspace parts are ignored: it is this workspace's asset."""
    assert parse_path(text, field="path") == expected
    assert str(parse_path(text)) == f"azureml:{expected.name}:{expected.version}"


def test_a_registry_data_asset_parses_like_a_registry_model() -> None:
    ref = parse_path("azureml://registries/shared/data/iris/versions/4")
    assert (ref.name, ref.version, ref.registry) == ("iris", "4", "shared")  # type: ignore[union-attr]
    assert str(ref) == "azureml://registries/shared/data/iris/versions/4"
    assert parse_path("azureml://registries/shared/models/m/versions/1") == \
        ModelRef("m", version="1", registry="shared")


@pytest.mark.parametrize("text", [f"{ARM}/environments/e/versions/1", f"{ARM}/data/iris",
                                  "azureml://locations/l/workspaces/w/data/iris/labels/latest"])
def test_an_asset_id_of_another_kind_or_without_a_version_is_refused(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="path")
    assert "is not a data or model asset ID" in info.value.message
    assert "/{data|models}/<name>/versions/<v>" in (info.value.hint or "")


@pytest.mark.parametrize(("text", "kind"), [
    (f"{ARM}/data/iris/versions/2", "data"), (f"{ARM}/datasets/iris/versions/1", "data"),
    (f"{ARM}/models/clf/versions/7", "models"),
    ("azureml://locations/westeurope/workspaces/0a1b/data/iris/versions/2", "data"),
    ("azureml://locations/westeurope/workspaces/0a1b/models/clf/versions/3", "models"),
    ("azureml://registries/shared/data/iris/versions/4", "data"),
    ("azureml://registries/shared/models/m/versions/1", "models"),
    ("azureml:iris:2", None), ("azureml:iris@latest", None)])
def test_an_asset_id_says_whether_it_names_data_or_a_model(text: str, kind: str | None) -> None:
    """A long ID or registry URL names the kind of asset (the short form leaves it to the input's type);
    the kind is not part of the reference's identity."""
    ref = parse_path(text)
    assert isinstance(ref, ModelRef) and ref.kind == kind


@pytest.mark.parametrize(("text", "expected"), [
    ("simplecache::s3://bucket/key", FsspecUrl("simplecache::s3://bucket/key")),
    ("simplecache::memory://x/y", FsspecUrl("simplecache::memory://x/y")),
    ("zip://a.txt::file:///tmp/d.zip", FsspecUrl("zip://a.txt::file:///tmp/d.zip")),
    ("simplecache::zip://a.txt::file:///tmp/d.zip", FsspecUrl("simplecache::zip://a.txt::file:///tmp/d.zip")),
    # a cache over this machine's files is refused (tests/unit/test_cache_chain_inputs.py)
    ("./odd::name.csv", LocalPath("./odd::name.csv")),
])
def test_a_chained_fsspec_url_is_never_a_relative_local_path(text: str, expected: object) -> None:
    assert parse_path(text) == expected


@pytest.mark.parametrize("text", ["simplecache::", "simplecache::::s3://b/k"])
def test_a_chained_url_with_an_empty_link_is_refused(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert "empty link" in info.value.message and info.value.field == "inputs.d.path"
    assert "simplecache::s3://" in (info.value.hint or "")


def test_a_chained_url_with_a_query_is_refused_without_showing_it() -> None:
    with pytest.raises(SpecError) as info:
        parse_path("simplecache::s3://bucket/key?X-Amz-Signature=SIGNATURE", field="inputs.d.path")
    assert "has a query string" in info.value.message and "SIGNATURE" not in info.value.render()


@pytest.mark.parametrize("text", ["file::/tmp/d.csv", "local::file:///tmp/d.csv",
                                  "simplecache::file:///tmp/a::s3://b/k"])
def test_this_machines_files_are_only_a_chains_last_link(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert "before its last link" in info.value.message and "file:///<path>" in (info.value.hint or "")


@pytest.mark.parametrize(("text", "protocol"), [
    ("reference://x::file:///tmp/refs.json", "reference"),
    ("reference::file:///tmp/refs.json", "reference"),
    ("zip://a.txt::reference::s3://b/refs.json", "reference"),
    ("simplecache::reference://x::memory://refs.json", "reference"),
    ("generic://file:///etc/passwd", "generic"),
    ("dir::file:///tmp/folder", "dir"),
    ("git:///srv/repo:main@a.txt", "git"),
    ("dvc://data/a.csv", "dvc"),
    ("asyncwrapper::memory://x", "asyncwrapper"),
    ("dask::s3://b/k", "dask"),
])
def test_a_protocol_whose_content_names_further_files_is_refused(text: str, protocol: str) -> None:
    """Which files it reads is known only when it runs (a JSON of references, a URL per path, a
    repository): nothing can guard them ahead of time, so no path may use it."""
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert f"fsspec's '{protocol}' protocol" in info.value.message and info.value.field == "inputs.d.path"
    hint = info.value.hint or ""
    assert "simplecache" in hint and "zip" in hint and "file:///<absolute path>" in hint


@pytest.mark.parametrize("text", ["zip://a.txt::d.zip", "zip://a.txt::file://d.zip", "tar://a::local://x/d.tar",
                                  "zip://a.txt::file:~/d.zip"])
def test_this_machines_file_in_a_chain_is_an_absolute_path(text: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(text, field="inputs.d.path")
    assert "absolute" in info.value.message and "file:///<absolute path>" in (info.value.hint or "")


@pytest.mark.parametrize("text", ["zip://a.txt::file:///tmp/d.zip", "tar://a/b.txt::/tmp/d.tar",
                                  "zip://a.txt::simplecache::s3://b/d.zip", "s3://bucket/refs.json",
                                  "memory://reference/x"])
def test_archives_and_caches_over_a_store_are_fsspec_urls(text: str) -> None:
    assert parse_path(text, field="inputs.d.path") == FsspecUrl(text)
