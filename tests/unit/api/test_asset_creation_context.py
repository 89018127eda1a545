"""A registered model or data asset has azure.ai.ml's read-only ``creation_context``, the shape a job's
has (``created_at``, ``last_modified_at``; who is not recorded locally); an asset not registered yet has
none, as Azure's."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient
from runner.entities import Data, Model
from runner.errors import SpecError
from runner.jobs.job import CreationContext
from runner.workspace.db import JobRecord
from runner.workspace.job_records import JobStatus


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    (tmp_path / "model.pkl").write_text("m")
    (tmp_path / "iris.csv").write_text("a,b\n")
    return MLClient(workspace_dir=tmp_path / "ws")


def test_models_and_data_have_the_jobs_creation_context(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.models.create_or_update(Model(name="clf", path=str(tmp_path / "model.pkl")))
    ml_client.data.create_or_update(Data(name="iris", path=str(tmp_path / "iris.csv"), type="uri_file"))
    ml_client.workspace.create_job(JobRecord(name="j1", status=JobStatus.COMPLETED))
    model = ml_client.models.get("clf", version="1")
    data_asset = ml_client.data.get("iris", label="latest")
    job_context = ml_client.jobs.get("j1").creation_context
    for asset in (model, data_asset):
        context = asset.creation_context
        assert type(context) is type(job_context) is CreationContext
        assert context.created_at == asset.created_at is not None
        assert context.last_modified_at == asset.created_at
        assert context.created_by is None and context.last_modified_by is None


def test_listed_assets_have_it_too_and_an_unregistered_one_has_none(ml_client: MLClient,
                                                                     tmp_path: Path) -> None:
    ml_client.models.create_or_update(Model(name="clf", path=str(tmp_path / "model.pkl")))
    (listed,) = ml_client.models.list()
    assert listed.creation_context is not None and listed.creation_context.created_at == listed.created_at
    assert Model(name="new", path=str(tmp_path / "model.pkl")).creation_context is None


def test_it_is_read_only(ml_client: MLClient, tmp_path: Path) -> None:
    model = ml_client.models.create_or_update(Model(name="clf", path=str(tmp_path / "model.pkl")))
    with pytest.raises((AttributeError, SpecError)):
        model.creation_context = None  # type: ignore[misc]
    assert "creation_context" not in model.to_dict()  # the dumped shape is unchanged
