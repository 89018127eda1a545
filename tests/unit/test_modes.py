"""Every cell of the supported-modes matrix against the documents' table (the seed's six rows verbatim,
Azure ML's rules for the other types: ``tests/documented.py``), never against ``MATRIX`` itself: the
matrix, ``check_mode``, the parser (YAML/builder), the planner, the generated Markdown table and every
copy of it in README.md and docs/, and the default modes."""

from __future__ import annotations

import itertools
import os
import re
import sys
from enum import StrEnum
from pathlib import Path

import fsspec
import pytest
from documented import (
    ALL_MODES,
    DEFAULT_MODES,
    EXPECTED_MODES,
    SEED_MODES,
    SEED_MODES_TABLE,
    SEED_PATHS_TABLE,
    markdown_tables,
)
from needs import missing
from repo_paths import REPO

from runner.errors import ModeError
from runner.modes import (
    DEFAULT_MODE,
    MATRIX,
    AssetType,
    Direction,
    Mode,
    PathKind,
    allowed_modes,
    check_mode,
    matrix_markdown,
)
from runner.plan.build import build_plan
from runner.spec.load import spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath

SEEDS = Path(os.environ.get("RUNNER_SEEDS_DIR", REPO.parent / "shared" / "seeds"))

# The documents' tables (tests/documented.py), never ``MATRIX`` itself: the expectation is independent.
EXPECTED: dict[tuple[AssetType, PathKind, Direction], frozenset[Mode]] = {
    (AssetType(t), PathKind(k), Direction(d)): frozenset(Mode(m) for m in modes)
    for (t, k, d), modes in EXPECTED_MODES.items()}
ROWS = list(EXPECTED)
CELLS = [(t, k, d, m) for (t, k, d) in ROWS for m in Mode]


def _ids(cells: list[tuple[StrEnum, ...]]) -> list[str]:
    return ["-".join(p.value for p in c) for c in cells]


def _expected_any_kind(asset_type: AssetType, direction: Direction) -> frozenset[Mode]:
    """What the documents allow for a type and direction before the path kind is known (every row)."""
    allowed: frozenset[Mode] = frozenset()
    for (t, _k, d), modes in EXPECTED.items():
        if (t, d) == (asset_type, direction):
            allowed |= modes
    return allowed


def test_the_seed_table_here_is_the_seeds_verbatim() -> None:
    seeds = sorted(SEEDS.glob("000_*.txt")) if SEEDS.is_dir() else []
    if not seeds:
        missing(f"the seed documents are not at {SEEDS} (beside the checkout as ../shared/seeds, or set "
                "RUNNER_SEEDS_DIR)")
    text = seeds[0].read_text()
    assert SEED_MODES_TABLE in text
    assert SEED_PATHS_TABLE in text


def test_the_seed_table_reads_as_six_rows_of_five_modes() -> None:
    """The parse of the seed's table itself (so that a parser slip cannot make both sides agree)."""
    assert len(SEED_MODES) == 6
    assert SEED_MODES[("custom_model", "file", "input")] == frozenset()
    assert SEED_MODES[("custom_model", "folder", "input")] == {"download", "ro_mount", "direct"}
    assert SEED_MODES[("mlflow_model", "folder", "input")] == {"download", "ro_mount"}
    for t, k in (("custom_model", "file"), ("custom_model", "folder"), ("mlflow_model", "folder")):
        assert SEED_MODES[(t, k, "output")] == {"upload", "rw_mount", "direct"}


def test_the_matrix_has_exactly_the_documented_rows() -> None:
    assert sorted(MATRIX) == sorted(EXPECTED)
    assert {m.value for m in Mode} == set(ALL_MODES)


@pytest.mark.parametrize("asset_type,kind,direction,mode", CELLS, ids=_ids(CELLS))  # type: ignore[arg-type]
def test_every_cell_is_the_documents(asset_type: AssetType, kind: PathKind, direction: Direction,
                                     mode: Mode) -> None:
    row = (asset_type, kind, direction)
    assert (mode in MATRIX[row]) == (mode in EXPECTED[row])


@pytest.mark.parametrize("asset_type,direction", [(t, d) for t in AssetType for d in Direction],
                         ids=lambda v: v.value)
def test_allowed_modes_is_the_documents(asset_type: AssetType, direction: Direction) -> None:
    assert allowed_modes(asset_type, direction) == _expected_any_kind(asset_type, direction)
    for (t, k, d), modes in EXPECTED.items():
        if (t, d) == (asset_type, direction):
            assert allowed_modes(asset_type, direction, k) == modes


def test_defaults_are_ro_mount_in_and_rw_mount_out() -> None:
    assert {Direction(d): Mode(m) for d, m in DEFAULT_MODES.items()} == DEFAULT_MODE


@pytest.mark.parametrize("asset_type,kind,direction,mode", CELLS, ids=_ids(CELLS))  # type: ignore[arg-type]
def test_check_mode_every_cell(asset_type: AssetType, kind: PathKind, direction: Direction,
                               mode: Mode) -> None:
    allowed = EXPECTED[(asset_type, kind, direction)]
    if mode in allowed:
        check_mode(asset_type, direction, mode, kind)
        return
    with pytest.raises(ModeError) as info:
        check_mode(asset_type, direction, mode, kind, field="inputs.x.mode")
    text = info.value.render()
    assert f"'{mode.value}'" in text
    if allowed:  # the error lists exactly what is allowed for this type and direction
        listed = re.search(r"allowed: ([a-z_, ]+)", text)
        assert listed and set(listed[1].split(", ")) == {m.value for m in allowed}, text
    else:
        assert "no supported mode" in text


def test_custom_model_file_input_refusal_suggests_uri_file_or_folder() -> None:
    with pytest.raises(ModeError) as info:
        check_mode(AssetType.CUSTOM_MODEL, Direction.INPUT, Mode.RO_MOUNT, PathKind.FILE)
    assert info.value.hint is not None
    assert "uri_file" in info.value.hint and "folder" in info.value.hint


SPEC_CELLS = list(itertools.product(list(AssetType), list(Direction), list(Mode)))


def _job(asset_type: AssetType, direction: Direction, mode: Mode) -> dict[str, object]:
    entry = {"type": asset_type.value, "mode": mode.value}
    if direction is Direction.INPUT:
        return {"command": "ls ${{inputs.x}}", "environment": "python:3.11",
                "inputs": {"x": {**entry, "path": "somewhere"}}}
    return {"command": "ls ${{outputs.x}}", "environment": "python:3.11", "outputs": {"x": entry}}


@pytest.mark.parametrize("asset_type,direction,mode", SPEC_CELLS, ids=_ids(SPEC_CELLS))  # type: ignore[arg-type]
def test_spec_enforces_matrix_at_parse_time(asset_type: AssetType, direction: Direction,
                                            mode: Mode) -> None:
    """Before the path kind is known, a mode allowed for any kind of the type is accepted."""
    data = _job(asset_type, direction, mode)
    group = "inputs" if direction is Direction.INPUT else "outputs"
    if mode in _expected_any_kind(asset_type, direction):
        spec = spec_from_data(data)
        assert getattr(spec, group)["x"].mode is mode
        return
    with pytest.raises(ModeError) as info:
        spec_from_data(data)
    assert info.value.field == f"{group}.x.mode"
    assert "allowed" in info.value.message or "no supported mode" in info.value.message


def _resolved(kind: PathKind, path: str) -> ResolvedPath:
    return ResolvedPath(uri=path, fs=fsspec.filesystem("file"), path=path, url="file://" + path, kind=kind,
                        local_path=Path(path))


PLAN_CELLS = [(t, k, d, m) for (t, k, d) in ROWS for m in Mode if m in _expected_any_kind(t, d)]


@pytest.mark.parametrize("asset_type,kind,direction,mode", PLAN_CELLS, ids=_ids(PLAN_CELLS))  # type: ignore[arg-type]
def test_plan_enforces_matrix_with_resolved_kind(asset_type: AssetType, kind: PathKind, direction: Direction,
                                                 mode: Mode, tmp_path: Path) -> None:
    spec = spec_from_data(_job(asset_type, direction, mode))
    resolved = {"x": _resolved(kind, "/data/model.bin" if kind is PathKind.FILE else "/data/folder")}
    inputs, outputs = (resolved, {}) if direction is Direction.INPUT else ({}, resolved)
    if mode in EXPECTED[(asset_type, kind, direction)]:
        plan = build_plan(spec, job_name="j", job_dir=JobDir(tmp_path), inputs=inputs, outputs=outputs,
                          environment=ResolvedEnvironment("i"))
        assert plan.bindings[0].mode is mode
        return
    with pytest.raises(ModeError) as info:
        build_plan(spec, job_name="j", job_dir=JobDir(tmp_path), inputs=inputs, outputs=outputs,
                          environment=ResolvedEnvironment("i"))
    assert "custom_model file input" in info.value.message  # the only kind-dependent refusal
    assert "uri_file" in (info.value.hint or "")


def _parse_markdown_matrix(table: list[str]) -> dict[tuple[str, str, str], frozenset[str]]:
    """``| `type` | kind | direction | ✓ ... |`` rows -> the modes with a ✓ (header names the modes)."""
    modes = [cell.strip().strip("`") for cell in table[0].strip().strip("|").split("|")[3:]]
    parsed = {}
    for line in table[2:]:
        cells = [cell.strip() for cell in line.strip()[1:-1].split("|")]
        row = (cells[0].strip("`"), cells[1], cells[2])
        assert row not in parsed, f"row {row} twice"
        parsed[row] = frozenset(m for m, cell in zip(modes, cells[3:], strict=True) if cell == "✓")
    return parsed


def test_matrix_markdown_is_the_documents_table() -> None:
    """The table the docs paste (``python scripts/gen_matrix.py``) says what the documents say."""
    table = matrix_markdown().splitlines()
    assert table[0].startswith("| Type | Path | Direction |")
    assert _parse_markdown_matrix(table) == EXPECTED_MODES


def _docs() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


# what the docs build puts in a page for ``<!-- generated: modes-matrix -->`` (scripts/mkdocs_hooks.py)
GENERATED_MATRIX = re.compile(r"^<!--\s*generated:\s*modes-matrix\s*-->[ \t]*$", re.M)


def _rendered(doc: Path) -> str:
    """The page as the site shows it, as far as the matrix goes."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import gen_matrix  # (scripts/, the docs build's generator)
    finally:
        sys.path.remove(str(REPO / "scripts"))
    return GENERATED_MATRIX.sub(lambda _m: gen_matrix.matrix_text(), doc.read_text())


def test_the_docs_quote_the_documents_matrix_and_defaults() -> None:
    """Every copy of the matrix in README.md and docs/ (written out, or generated into the page by the
    docs build) is the documents' table, and every sentence that states the defaults names Azure ML's."""
    quoted = 0
    for doc in _docs():
        if not doc.is_file():
            continue
        text = _rendered(doc)
        for table in markdown_tables(text):
            if table[0].replace(" ", "").startswith("|Type|Path|Direction|"):
                assert _parse_markdown_matrix(table) == EXPECTED_MODES, f"the matrix in {doc}"
                quoted += 1
        for sentence in re.findall(r"Defaults when `mode` is omitted:[^.]*\.", text):
            assert f"inputs `{DEFAULT_MODES['input']}`" in sentence, f"{doc}: {sentence}"
            assert f"outputs `{DEFAULT_MODES['output']}`" in sentence, f"{doc}: {sentence}"
            quoted += 1
    assert quoted >= 2, "no document quotes the supported-modes matrix and its defaults (README.md, docs/)"


@pytest.mark.parametrize("asset_type,direction", [(t, d) for t in AssetType for d in Direction],
                         ids=lambda v: v.value)
def test_an_omitted_mode_is_the_documented_default(asset_type: AssetType, direction: Direction) -> None:
    data = _job(asset_type, direction, Mode.RO_MOUNT)
    group = "inputs" if direction is Direction.INPUT else "outputs"
    del data[group]["x"]["mode"]  # type: ignore[index]
    default = Mode(DEFAULT_MODES[direction.value])
    if default not in _expected_any_kind(asset_type, direction):
        with pytest.raises(ModeError):
            spec_from_data(data)
        return
    spec = spec_from_data(data)
    assert getattr(spec, group)["x"].mode in (None, default)
    kind = next(k for (t, k, d) in ROWS
                if (t, d) == (asset_type, direction) and default in EXPECTED[(t, k, d)])
    resolved = {"x": _resolved(kind, "/data/model.bin" if kind is PathKind.FILE else "/data/folder")}
    inputs, outputs = (resolved, {}) if direction is Direction.INPUT else ({}, resolved)
    plan = build_plan(spec, job_name="j", job_dir=JobDir(Path("/tmp/unused")), inputs=inputs,
                      outputs=outputs, environment=ResolvedEnvironment("i"))
    assert plan.bindings[0].mode is default
