"""Model and data asset tags (and properties) are text, as in Azure (``dict[str, str]``) and as a job's
tags are: a number or flag becomes its text, None becomes '', and a list or mapping is one error naming
the file, the line and the field, never text such as "['a', 'b']"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.spec.data import Data, load_data
from runner.spec.model import Model, load_model
from runner.workspace.db import Workspace, utcnow
from runner.workspace.models import ModelStore


@pytest.mark.parametrize("value", ["[1, 2]", "{x: 1}", "[]"])
@pytest.mark.parametrize("field", ["tags", "properties"])
def test_a_list_or_mapping_tag_value_in_a_model_yaml_is_one_located_error(tmp_path: Path, value: str,
                                                                           field: str) -> None:
    spec = tmp_path / "m.yml"
    spec.write_text(f"name: m\npath: x\n{field}:\n  ok: 1\n  bad: {value}\n")
    with pytest.raises(SpecError) as info:
        load_model(spec)
    rendered = info.value.render()
    assert f"{spec}:5:" in rendered and f"{field}.bad" in rendered, rendered
    assert "Traceback" not in rendered


def test_a_list_tag_value_in_a_data_yaml_is_one_located_error(tmp_path: Path) -> None:
    spec = tmp_path / "d.yml"
    spec.write_text("name: d\npath: x\ntype: uri_folder\ntags: {stage: [a, b]}\n")
    with pytest.raises(SpecError) as info:
        load_data(spec)
    assert f"{spec}:4:" in info.value.render() and "tags.stage" in info.value.render()


@pytest.mark.parametrize("cls", [Model, Data])
def test_a_list_tag_value_from_python_names_the_field(cls: type[Model] | type[Data]) -> None:
    with pytest.raises(SpecError) as info:
        cls(name="m", path="x", tags={"a": ["x", "y"]})  # type: ignore[dict-item]
    assert info.value.field == "tags.a"
    with pytest.raises(SpecError):
        cls(name="m", path="x", properties={"p": {"q": 1}})  # type: ignore[dict-item]


def test_scalars_still_become_text() -> None:
    raw: dict[str, Any] = {"a": 1, "b": 2.5, "c": True, "d": "x", "e": None}
    expected = {"a": "1", "b": "2.5", "c": "True", "d": "x", "e": ""}
    assert Model(name="m", path="x", tags=raw).tags == expected


def test_set_tags_json_refuses_a_list_value_and_takes_scalars(tmp_path: Path) -> None:
    """``runner model update --set tags={json}``: the same rule."""
    ws = Workspace(tmp_path / "ws")
    store = ModelStore(ws)
    with ws.transaction() as conn:
        store.ensure_container(conn, "m")
        store.insert_version(conn, Model(name="m", version="1", path="x", type="custom_model",
                                                 created_at=utcnow()), source="x")
    with pytest.raises(Exception) as info:
        store.update("m", "1", set_values={"tags": '{"a": [1, 2]}'})
    assert "tags" in str(info.value) and "'a'" in str(info.value)
    assert store.get("m", "1").tags == {}
    assert store.update("m", "1", set_values={"tags": '{"a": 1, "b": true, "c": null}'}).tags == \
        {"a": "1", "b": "True", "c": ""}
