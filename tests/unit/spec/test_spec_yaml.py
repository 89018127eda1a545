"""runner.spec.yamlio: positions of every key and item, syntax errors as one SpecError with file:line:col."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runner.errors import SourceLocation, SpecError
from runner.spec.yamlio import dump_yaml, load_yaml, load_yaml_text, split_field_path

TEXT = """\
name: m   # comment
inputs:
  x:
    type: uri_file
    path: a b
  n: 3
list:
  - first
  - b: 1
flow: {type: integer, default: 3}
"""


def test_plain_data_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text(TEXT)
    doc = load_yaml(path)
    assert doc.data == {"name": "m", "inputs": {"x": {"type": "uri_file", "path": "a b"}, "n": 3},
                        "list": ["first", {"b": 1}], "flow": {"type": "integer", "default": 3}}
    assert type(doc.data["inputs"]) is dict and type(doc.data["list"]) is list
    assert doc.where(("inputs", "x", "path")) == SourceLocation(path, 5, 5)
    assert doc.where("inputs.n") == SourceLocation(path, 6, 3)
    assert doc.where(("list", 1, "b")) == SourceLocation(path, 9, 5)
    assert doc.where("flow.default") == SourceLocation(path, 10, 23)
    assert doc.base_dir == tmp_path


def test_where_falls_back_to_the_nearest_written_parent(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text(TEXT)
    doc = load_yaml(path)
    assert doc.where(("inputs", "x", "mode")) == SourceLocation(path, 3, 3)
    assert doc.where(("nothing",)) == SourceLocation(path, 1, 1)


def test_find_text_after_a_location() -> None:
    doc = load_yaml_text("a: x\ncommand: >-\n  run\n  --x ${{inputs.x}}\n")
    assert doc.find("${{inputs.x}}", after=doc.where("command")) == SourceLocation(None, 4, 7)
    assert doc.find("missing") is None


def test_split_field_path() -> None:
    assert split_field_path("inputs.x.0") == ("inputs", "x", 0)
    assert split_field_path("") == ()


@pytest.mark.parametrize("text,line_col,words", [
    ("a:\n  b: 1\n c: 2\n", "3:2", "bad indentation"),
    ("a:\n  b: 1\n    c: 2\n", "3:6", "not allowed"),
    ("a:\n\tb: 1\n", "2:1", "tab"),
    ("a: 1\na: 2\n", "2:1", "duplicate key"),
    ("a: 'open\n", "2:1", "invalid YAML"),
    ("a: [1, 2\n", "2:1", "invalid YAML"),
])
def test_syntax_errors_point_at_the_line(tmp_path: Path, text: str, line_col: str, words: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_yaml(path)
    rendered = info.value.render()
    assert rendered.startswith(f"{path}:{line_col}: "), rendered
    assert words in rendered and info.value.hint


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_yaml(tmp_path / "missing.yml")
    with pytest.raises(SpecError, match="is a folder"):
        load_yaml(tmp_path)
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_yaml(binary)


def test_dump_round_trip(tmp_path: Path) -> None:
    data = {"command": "python t.py --x ${{inputs.x}}", "inputs": {"x": {"path": "a"}, "n": 3, "b": True},
            "tags": {}, "list": ["a", "b"]}
    dump_yaml(data, tmp_path / "out.yml")
    assert load_yaml(tmp_path / "out.yml").data == data
    stream = io.StringIO()
    dump_yaml({"a": 1}, stream)
    assert stream.getvalue() == "a: 1\n"
