"""``ml_client.datastores.create_or_update`` checks a new datastore's url as ``runner datastore create
--file`` does: an fsspec protocol nobody knows (``foo://``) is one ``SpecError`` at ``url``, naming the
protocol, and nothing is saved; a known one is saved. Workspaces in tmp_path; no storage is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient
from runner.errors import SpecError


def test_an_unknown_protocol_is_refused_as_the_cli_refuses_it(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError) as caught:
        ml_client.datastores.create_or_update({"name": "odd", "type": "fsspec", "url": "foo://bucket/data"})
    assert "foo" in str(caught.value) and caught.value.field == "url"
    assert "odd" not in [ds.name for ds in ml_client.datastores.list()]


def test_a_known_protocol_is_saved(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    saved = ml_client.datastores.create_or_update({"name": "mem", "type": "fsspec", "url": "memory://data"})
    assert saved.name == "mem" and "mem" in [ds.name for ds in ml_client.datastores.list()]
