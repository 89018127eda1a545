"""A misspelled keyword of ``Model(...)``, ``Data(...)``, ``Environment(...)`` or ``BuildContext(...)`` is
one ``SpecError`` naming it and the close known one, never silently dropped; every keyword azure.ai.ml
accepts for that entity is still accepted (the ones runner has no use for are ignored), so ported
scripts keep working; a model or data asset without a name says that a name is required."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runner import MLClient, command
from runner.entities import BuildContext, Data, Environment, Model
from runner.errors import SpecError


@pytest.mark.parametrize(("make", "word", "close"), [
    (lambda: Model(name="x", path="data", descripton="d"), "descripton", "description"),
    (lambda: Model(name="x", path="data", tag={"a": "b"}), "tag", "tags"),
    (lambda: Model(nmae="x", path="data"), "nmae", "name"),
    (lambda: Data(name="x", path="data", typ="uri_file"), "typ", "type"),
    (lambda: Data(name="x", pth="data"), "pth", "path"),
    (lambda: Environment(name="e", imagee="python:3.11"), "imagee", "image"),
    (lambda: Environment(name="e", image="python:3.11", conda_fil="c.yml"), "conda_fil", "conda_file"),
    (lambda: BuildContext(path="ctx", dockerfile="Dockerfile"), "dockerfile", "dockerfile_path"),
])
def test_a_misspelled_keyword_is_one_error_naming_it(make: object, word: str, close: str) -> None:
    with pytest.raises(SpecError) as raised:
        make()  # type: ignore[operator]
    err = raised.value
    assert f"'{word}'" in err.message and f"did you mean '{close}'" in err.message
    assert err.field == word and err.hint


def test_an_unknown_keyword_with_nothing_close_lists_the_known_ones() -> None:
    with pytest.raises(SpecError) as raised:
        Model(name="x", path="data", colour="red")
    assert "'colour'" in raised.value.message and "description" in (raised.value.hint or "")


def test_azure_keywords_are_accepted(caplog: pytest.LogCaptureFixture) -> None:
    """The keywords azure.ai.ml's entities take (read-only ones a dumped entity carries included)."""
    caplog.set_level(logging.DEBUG)
    model = Model(name="m", version="1", path="data", type="mlflow_model", description="d", tags={"a": "b"},
                  properties={"p": "q"}, stage="Production", flavors={"python_function": {}},
                  utc_time_created="2024-01-01", job_name="j1", datastore="workspaceblobstore",
                  default_deployment_template=None, allowed_deployment_templates=None,
                  intellectual_property=None, system_metadata=None, is_anonymous=False,
                  auto_increment_version=False, auto_delete_setting=None, print_as_yaml=False,
                  id="azureml:m:1", source_path=None, base_path=".", creation_context=None)
    assert (model.description, model.tags, model.stage) == ("d", {"a": "b"}, "Production")
    assert model.job_name == "j1"
    data = Data(name="d", version="2", path="data", type="uri_file", description="x", tags={"t": "1"},
                properties={}, datastore="workspaceblobstore", skip_validation=True, mltable_schema_url=None,
                referenced_uris=None, is_anonymous=False, auto_increment_version=False,
                auto_delete_setting=None, print_as_yaml=True, id=None, source_path=None,
                creation_context=None)
    assert (data.type, data.datastore, data.description) == ("uri_file", "workspaceblobstore", "x")
    env = Environment(name="e", version="1", image="python:3.11", description="x", tags={"a": "b"},
                      properties={"p": "q"}, datastore="workspaceblobstore", os_type="linux",
                      inference_config=None, intellectual_property=None, is_anonymous=False,
                      auto_increment_version=False, auto_delete_setting=None, print_as_yaml=False, id=None,
                      source_path=None, base_path=".", creation_context=None)
    assert env.image == "python:3.11"
    assert "skip_validation" in caplog.text  # ignored, said at debug level


def test_an_environment_with_azure_only_keywords_still_makes_a_job() -> None:
    env = Environment(image="python:3.11", properties={"p": "q"}, datastore="workspaceblobstore")
    job = command(command="ls", environment=env)
    assert job.to_dict()["environment"] == {"image": "python:3.11"}


def test_entities_built_by_the_registry_are_unchanged(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Models and data read back from the workspace are built with the read-only fields."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "f.txt").write_text("x")
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    ml_client.models.create_or_update(Model(name="m", path="data", description="about"))
    ml_client.data.create_or_update(Data(name="d", path="data"))
    assert ml_client.models.get("m", version="1").description == "about"
    assert [d.name for d in ml_client.data.list()] == ["d"]


@pytest.mark.parametrize(("entity", "noun"), [(Model, "model"), (Data, "data asset")])
def test_a_missing_name_says_a_name_is_required(tmp_path: Path, entity: type, noun: str) -> None:
    (tmp_path / "data").mkdir()
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError) as raised:
        ml_client.create_or_update(entity(path=tmp_path / "data"))
    err = raised.value
    assert err.field == "name" and f"a {noun} needs a name" in err.message and "None" not in err.message
