"""``latest`` is the label of an asset's newest version (``get(name, label="latest")``,
``azureml:<name>@latest``), so it is refused as a version: registering ``Model(version="latest")`` would
make ``get(version="latest")`` and ``get(label="latest")`` two different versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Data, MLClient, Model, Output, command
from runner.errors import SpecError
from runner.spec.model import load_model


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    (tmp_path / "model.pkl").write_bytes(b"weights")
    return MLClient(workspace_dir=tmp_path / "ws")


@pytest.mark.parametrize("version", ["latest", "Latest"])
def test_registering_a_model_version_named_latest_is_refused(ml_client: MLClient, tmp_path: Path,
                                                             version: str) -> None:
    with pytest.raises(SpecError, match=f"'{version}' is a label") as raised:
        ml_client.models.create_or_update(Model(name="m", version=version, path=tmp_path / "model.pkl"))
    assert raised.value.field == "version"
    assert list(ml_client.models.list(include_archived=True)) == []


def test_registering_a_data_version_named_latest_is_refused(ml_client: MLClient, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="'latest' is a label"):
        ml_client.data.create_or_update(Data(name="d", version="latest", path=tmp_path / "model.pkl",
                                             type="uri_file"))


def test_a_model_yaml_with_version_latest_is_refused_where_it_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "model.yml"
    spec.write_text("name: m\nversion: latest\npath: model.pkl\n")
    with pytest.raises(SpecError, match="'latest' is a label") as raised:
        load_model(spec)
    assert raised.value.where is not None and raised.value.where.line == 2


def test_a_job_output_registered_as_version_latest_is_refused_at_submission() -> None:
    with pytest.raises(SpecError, match="'latest' is a label"):
        command(command="echo", environment="img:1",
                outputs={"model": Output(type="custom_model", name="m", version="latest")})
