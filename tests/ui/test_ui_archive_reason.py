"""Why a registered version is archived, as a job's page says it: the note "its asset is archived" made
when the version was born under an archived asset holds only while no archive action came since; once
the version was restored and archived again by hand, the reason is that action, not its birth. And the
UI's JSON times are the project's one Z form (``runner.workspace.db.utc_text``), naive times as UTC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runner.client import MLClient
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import utc_text

NOTE = "model 'clf' is archived, so its new version 2 is archived too"


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    ml = MLClient(workspace_dir=tmp_path / "ws")
    ml.models.create(Model(name="clf", path=str(folder)))
    ml.data.create(Data(name="feats", path=str(folder), type="uri_folder"))
    return ml


def _rows(ml: MLClient, kind: str, ref: str, note: str) -> dict[str, Any]:
    from runner.ui.job_lineage import registered_rows as _registered
    from runner.workspace.data_assets import DataAssetStore
    from runner.workspace.models import ModelStore

    store = ModelStore(ml.workspace) if kind == "model" else DataAssetStore(ml.workspace)
    [row] = _registered(store, [ref], {ref: note}, kind)
    return row


def _born_archived(ml: MLClient, tmp_path: Path, kind: str) -> None:
    operations = ml.models if kind == "model" else ml.data
    operations.archive("clf" if kind == "model" else "feats")
    folder = tmp_path / "m"
    if kind == "model":
        assert ml.models.create(Model(name="clf", path=str(folder))).archived
    else:
        assert ml.data.create(Data(name="feats", path=str(folder), type="uri_folder")).archived


@pytest.mark.parametrize("by_hand", ["version", "asset"])
def test_the_born_archived_note_goes_once_the_version_is_restored_and_archived_by_hand(
        ui_extra: None, client: MLClient, tmp_path: Path, by_hand: str) -> None:
    _born_archived(client, tmp_path, "model")
    assert NOTE in (_rows(client, "model", "azureml:clf:2", NOTE)["note"] or "")  # born archived: says so
    client.models.restore("clf")
    assert _rows(client, "model", "azureml:clf:2", NOTE) == {
        "ref": "azureml:clf:2", "model": {"name": "clf", "version": "2"}, "archived": False, "note": None}
    client.models.archive("clf", version="2" if by_hand == "version" else None)
    row = _rows(client, "model", "azureml:clf:2", NOTE)
    assert row["archived"] is True and row["note"] is None, row  # archived by hand: not "its asset"


def test_the_note_stays_while_the_version_is_as_it_was_born(ui_extra: None, client: MLClient,
                                                            tmp_path: Path) -> None:
    _born_archived(client, tmp_path, "data")
    client.data.archive("feats", version="1")  # another version's action changes nothing for version 2
    row = _rows(client, "data", "azureml:feats:2", "data asset 'feats' is archived")
    assert row["archived"] is True and row["note"] == "data asset 'feats' is archived"


def test_a_version_gone_from_the_registry_keeps_the_records_note(ui_extra: None, client: MLClient) -> None:
    row = _rows(client, "model", "azureml:gone:1", "model 'gone' is archived")
    assert row["archived"] is True and row["note"] == "model 'gone' is archived"


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_json_times_are_utc_text_whatever_the_machines_time_zone(ui_extra: None, tokyo: None) -> None:
    from runner.ui.render import json_time

    naive = datetime(2026, 1, 2, 3, 4, 5)  # a naive time is UTC (runner writes none other)
    assert json_time(naive) == utc_text(naive) == "2026-01-02T03:04:05Z"
    aware = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert json_time(aware) == utc_text(aware) and json_time(None) is None
