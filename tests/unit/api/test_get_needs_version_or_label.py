"""``ml_client.models.get`` / ``ml_client.data.get`` take a version or a label, as azure-ai-ml's do
(``Must provide either version or label``; ``Cannot specify both version and label``): code written
against runner with ``get("x")`` would break on Azure. One ``SpecError`` whose hint is in Python's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import SpecError
from runner.spec.data import Data
from runner.spec.model import Model


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "x.txt").write_text("x")
    for version in ("1", "2"):
        client.models.create_or_update(Model(name="m", version=version, path=str(tmp_path / "a.txt")))
        client.data.create_or_update(Data(name="d", version=version, path=str(tmp_path / "folder"),
                                          type="uri_folder"))
    return client


def _refused(call: Callable[[], object]) -> SpecError:
    with pytest.raises(SpecError) as info:
        call()
    return info.value


@pytest.mark.parametrize(("kind", "name", "noun"), [("models", "m", "model"), ("data", "d", "data asset")])
def test_get_without_version_or_label_is_refused(ml_client: MLClient, kind: str, name: str,
                                                 noun: str) -> None:
    err = _refused(lambda: getattr(ml_client, kind).get(name))
    text = str(err)
    assert "version or label" in err.message and f"{noun} '{name}'" in err.message
    assert f'ml_client.{kind}.get("{name}", version="1")' in text and 'label="latest"' in text, text
    assert "--version" not in text and "--label" not in text and "Traceback" not in text
    ops = getattr(ml_client, kind)
    assert "version or label" in _refused(lambda: ops.get(name, version="")).message  # none, in azure-ai-ml
    assert "version or label" in _refused(lambda: ops.get(name, version=None, label="")).message


@pytest.mark.parametrize(("kind", "name"), [("models", "m"), ("data", "d")])
def test_get_with_both_is_refused(ml_client: MLClient, kind: str, name: str) -> None:
    err = _refused(lambda: getattr(ml_client, kind).get(name, version="1", label="latest"))
    assert "not both" in err.message and 'version="1"' in str(err) and 'label="latest"' in str(err)


@pytest.mark.parametrize(("kind", "name"), [("models", "m"), ("data", "d")])
def test_get_with_a_version_or_the_label(ml_client: MLClient, kind: str, name: str) -> None:
    ops = getattr(ml_client, kind)
    assert ops.get(name, version="1").version == "1"
    assert ops.get(name, version=2).version == "2"
    assert ops.get(name, "1").version == "1"
    assert ops.get(name, label="latest").version == "2"
