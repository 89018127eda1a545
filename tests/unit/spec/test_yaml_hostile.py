"""runner.spec.yamlio against hostile YAML (issue 20): an alias bomb is refused before it expands,
deep nesting is refused before any recursion, an alias inside its own node is refused; each as one
SpecError at the place it happens. Ordinary anchors, aliases and merge keys still work."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.yamlio import MAX_DEPTH, MAX_SPEC_BYTES, MAX_VALUES, load_yaml, load_yaml_text


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level nine aliases of the one before (9**levels strings)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefghijklmn", "bcdefghijklmno"[:levels - 1], strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "command: echo hi\nenvironment_variables:\n  " + "\n  ".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    text = alias_bomb()
    assert len(text) < 700
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as err:
            load_yaml_text(text)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # expanded, 9**9 strings would take gigabytes
    assert f"more than {MAX_VALUES:,} values" in err.value.message
    assert err.value.where is not None and err.value.where.line is not None
    assert "aliases" in (err.value.hint or "")


@pytest.mark.parametrize("text", [
    "tags: " + "[" * 5000 + "]" * 5000,
    "tags: " + "{a: " * 5000 + "1" + "}" * 5000,
    "tags:\n" + "- " * 5000 + "x",
    "tags:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(1000)),
    "tags: " + "[{a: " * 2500 + "1" + "}]" * 2500,
], ids=["flow-sequences", "flow-mappings", "block-sequences", "block-mappings", "mixed"])
def test_deep_nesting_is_one_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(SpecError) as err:
        load_yaml_text("command: echo hi\n" + text + "\n", file=Path("/x/job.yml"))
    assert f"nested more than {MAX_DEPTH} levels deep" in err.value.message
    assert err.value.where is not None and err.value.where.line is not None
    assert err.value.where.line <= MAX_DEPTH + 3  # where it got too deep, not the end of the file


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 2  # (the document's mapping and "tags" are two levels)
    doc = load_yaml_text("command: echo hi\ntags: " + "[" * depth + "1" + "]" * depth + "\n")
    value = doc.data["tags"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [1]


@pytest.mark.parametrize("text", ["tags: &t\n  a: *t\n", "tags: &t [1, *t]\n", "a: &x {b: [*x]}\n"])
def test_an_alias_inside_the_node_it_names_is_refused(text: str) -> None:
    with pytest.raises(SpecError) as err:
        load_yaml_text(text)
    assert "is inside the node it names" in err.value.message


def test_too_many_values_without_aliases_is_refused() -> None:
    with pytest.raises(SpecError) as err:
        load_yaml_text("tags: [" + ",".join(["1"] * (MAX_VALUES + 1)) + "]\n")
    assert f"more than {MAX_VALUES:,} values" in err.value.message


def test_ordinary_anchors_aliases_and_merge_keys_still_work() -> None:
    doc = load_yaml_text(
        "base: &base {a: 1, b: [x, y]}\n"
        "copy: *base\n"
        "merged:\n  <<: *base\n  c: 3\n"
        "again: &base 2\n"  # a re-defined anchor is valid YAML
        "last: *base\n")
    assert doc.data["copy"] == {"a": 1, "b": ["x", "y"]}
    assert doc.data["merged"] == {"a": 1, "b": ["x", "y"], "c": 3}
    assert doc.data["last"] == 2


def test_a_file_larger_than_a_spec_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    with big.open("w") as handle:
        handle.write("command: echo\n# " + "x" * MAX_SPEC_BYTES + "\n")
    with pytest.raises(SpecError, match="a spec file is expected to be small"):
        load_yaml(big)
