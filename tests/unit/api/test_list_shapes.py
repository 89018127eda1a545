"""``ml_client.models.list()`` and ``ml_client.data.list()`` have azure.ai.ml's shapes: without a name one
entry per asset carrying ``latest_version``; with a name every version of it (``latest_version`` unset,
as on Azure's version objects). ``to_dict`` (what the CLI prints) is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Data, MLClient, Model


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    (tmp_path / "model.pkl").write_bytes(b"weights")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("a,b\n1,2\n")
    return MLClient(workspace_dir=tmp_path / "ws")


def test_models_list_without_a_name_is_one_entry_per_model_with_latest_version(
        ml_client: MLClient, tmp_path: Path) -> None:
    for name in ("alpha", "alpha", "alpha", "beta"):
        ml_client.models.create_or_update(Model(name=name, path=tmp_path / "model.pkl"))
    listed = list(ml_client.models.list())
    assert [(m.name, m.latest_version) for m in listed] == [("alpha", "3"), ("beta", "1")]
    for m in ml_client.models.list():  # the Azure snippet
        print(m.name, m.latest_version)
    versions = list(ml_client.models.list(name="alpha"))
    assert [m.version for m in versions] == ["3", "2", "1"]
    assert all(m.latest_version is None for m in versions)
    assert ml_client.models.get("alpha", version="2").latest_version is None
    assert "latest_version" not in listed[0].to_dict()  # the CLI's rows keep their shape


def test_latest_version_follows_the_view_of_archived_versions(ml_client: MLClient, tmp_path: Path) -> None:
    for _ in range(2):
        ml_client.models.create_or_update(Model(name="m", path=tmp_path / "model.pkl"))
    ml_client.models.archive("m", version="2")
    assert [m.latest_version for m in ml_client.models.list()] == ["1"]
    assert [m.latest_version for m in ml_client.models.list(include_archived=True)] == ["2"]


def test_models_page_without_a_name_carries_latest_version(ml_client: MLClient, tmp_path: Path) -> None:
    for _ in range(2):
        ml_client.models.create_or_update(Model(name="m", path=tmp_path / "model.pkl"))
    assert [m.latest_version for m in ml_client.models.page().items] == ["2"]
    assert [m.latest_version for m in ml_client.models.page("m").items] == [None, None]


def test_data_list_without_a_name_is_one_entry_per_asset_with_latest_version(
        ml_client: MLClient, tmp_path: Path) -> None:
    for name in ("iris", "iris", "wine"):
        ml_client.data.create_or_update(Data(name=name, path=tmp_path / "data", type="uri_folder"))
    listed = list(ml_client.data.list())
    assert [(d.name, d.latest_version) for d in listed] == [("iris", "2"), ("wine", "1")]
    assert [(d.version, d.latest_version) for d in ml_client.data.list(name="iris")] == \
        [("2", None), ("1", None)]


def test_a_listed_entry_registers_again_without_its_latest_version(ml_client: MLClient,
                                                                  tmp_path: Path) -> None:
    ml_client.models.create_or_update(Model(name="m", path=tmp_path / "model.pkl"))
    listed = next(iter(ml_client.models.list()))
    listed.name, listed.version = "m2", None
    again = ml_client.models.create_or_update(listed)
    assert (again.name, again.version, again.latest_version) == ("m2", "1", None)
