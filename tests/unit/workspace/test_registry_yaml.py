"""Model YAML loading: Azure's fields, relative paths, and errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_paths import EXAMPLES as _ALL_EXAMPLES

from runner.errors import SpecError
from runner.spec.model import Model, load_model

EXAMPLES = _ALL_EXAMPLES / "cli" / "assets" / "model"


@pytest.mark.examples
def test_examples_load() -> None:
    model = load_model(EXAMPLES / "local-file.yml")
    assert (model.name, model.path) == ("local-file-example", "mlflow-model/model.pkl")
    assert model.type == "custom_model"
    assert model.base_path == str(EXAMPLES.resolve())  # the loader resolves symlinks
    assert load_model(EXAMPLES / "local-mlflow.yml").type == "mlflow_model"


def test_all_fields_and_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "m.yml"
    spec.write_text("$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
                    "name: m\nversion: 3\npath: x\ntype: triton_model\ndescription: d\n"
                    "tags: {a: 1}\nproperties: {p: q}\nstage: Production\n")
    model = load_model(spec, overrides={"version": "7", "description": None})
    assert model.version == "7" and model.description == "d" and model.tags == {"a": "1"}
    assert model.properties == {"p": "q"} and model.stage == "Production" and model.type == "triton_model"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("name: m\npath: x\nflavour: y\n", 3, "unknown field 'flavour'"),
    ("name: m\npath: x\ntype: custom\n", 3, "unknown model type 'custom'"),
    ("name: m\n", 1, "a model needs a path"),
    ("name: bad name\npath: x\n", 1, "invalid model name"),
    ("name: m\npath: x\ntags: [a, b]\n", 3, "tags"),
])
def test_errors_point_at_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    spec = tmp_path / "m.yml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        load_model(spec)
    rendered = info.value.render()
    assert f"{spec}:{line}:" in rendered and words in rendered and info.value.hint


def test_model_entity_mirrors_azure() -> None:
    model = Model(name="m", path="p", type="MLFlowModel", version=2)
    assert model.type == "mlflow_model" and model.version == "2" and model.id == "azureml:m:2"
    model.tags = {"stage": "Prod"}
    assert "name: m" in str(model) and model.to_dict()["tags"] == {"stage": "Prod"}
