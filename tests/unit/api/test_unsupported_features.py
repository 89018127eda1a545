"""What runner does not do of azure.ai.ml (endpoints, schedules, Spark, AutoML...) fails where a ported
script reaches for it with one error naming the feature and what to do instead, not a bare ImportError or
AttributeError that reads like a bug: ``from runner.entities import ManagedOnlineEndpoint``, ``from runner
import spark``, ``ml_client.online_endpoints``. Other missing names stay ordinary errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import runner
from runner import MLClient
from runner.errors import SpecError


@pytest.mark.parametrize(("name", "feature"), [
    ("ManagedOnlineEndpoint", "online and batch endpoints"),
    ("BatchDeployment", "online and batch endpoints"),
    ("JobSchedule", "schedules"),
    ("SparkJob", "Spark jobs"),
    ("FeatureStore", "feature stores"),
])
def test_an_out_of_scope_entity_names_its_feature(name: str, feature: str) -> None:
    with pytest.raises(SpecError) as refused:
        exec(f"from runner.entities import {name}")
    assert f"runner.entities.{name}" in refused.value.message
    assert f"{feature} are not supported here" in refused.value.message and refused.value.hint


@pytest.mark.parametrize(("name", "feature"), [("spark", "Spark jobs"), ("automl", "AutoML jobs"),
                                               ("load_online_endpoint", "online and batch endpoints")])
def test_an_out_of_scope_top_level_name_names_its_feature(name: str, feature: str) -> None:
    with pytest.raises(SpecError, match=f"runner.{name} .*{feature} are not supported here"):
        exec(f"from runner import {name}")


def test_other_missing_names_stay_ordinary_and_submodules_import() -> None:
    with pytest.raises(ImportError, match="cannot import name 'Modle'"):
        exec("from runner.entities import Modle")
    assert not hasattr(runner, "does_not_exist") and not hasattr(runner.entities, "_private")
    exec("from runner import workspace, dsl")  # runner's own packages share words with refused names


def test_mlclient_names_azures_operations_it_does_not_have(tmp_path: Path) -> None:
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(AttributeError) as missing:
        ml_client.online_endpoints.begin_create_or_update(None)
    said = str(missing.value)
    assert said.startswith("'MLClient' object has no attribute 'online_endpoints': ")
    assert "online and batch endpoints are not supported here" in said
    assert "ml_client.models.download" in said  # what to do instead
    assert not hasattr(ml_client, "schedules") and not hasattr(ml_client, "batch_endpoints")
    with pytest.raises(AttributeError, match="no attribute 'modles'.*did you mean 'models'"):
        ml_client.modles  # noqa: B018
