"""Every cell of the supported-modes matrix, at parse time (YAML/builder) and at plan time."""

from __future__ import annotations

import itertools
from pathlib import Path

import fsspec
import pytest

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

CELLS = [(t, k, d, m) for (t, k, d), m0 in MATRIX.items() for m in Mode]

SEED_ROWS = {
    (AssetType.CUSTOM_MODEL, PathKind.FILE, Direction.INPUT): set(),
    (AssetType.CUSTOM_MODEL, PathKind.FOLDER, Direction.INPUT): {"download", "ro_mount", "direct"},
    (AssetType.MLFLOW_MODEL, PathKind.FOLDER, Direction.INPUT): {"download", "ro_mount"},
    (AssetType.CUSTOM_MODEL, PathKind.FILE, Direction.OUTPUT): {"upload", "rw_mount", "direct"},
    (AssetType.CUSTOM_MODEL, PathKind.FOLDER, Direction.OUTPUT): {"upload", "rw_mount", "direct"},
    (AssetType.MLFLOW_MODEL, PathKind.FOLDER, Direction.OUTPUT): {"upload", "rw_mount", "direct"},
}


@pytest.mark.parametrize("row", list(SEED_ROWS), ids=lambda r: "-".join(p.value for p in r))
def test_seed_rows_are_the_seed_table(row: tuple[AssetType, PathKind, Direction]) -> None:
    assert {m.value for m in MATRIX[row]} == SEED_ROWS[row]


def test_defaults_are_ro_mount_in_and_rw_mount_out() -> None:
    assert DEFAULT_MODE == {Direction.INPUT: Mode.RO_MOUNT, Direction.OUTPUT: Mode.RW_MOUNT}


@pytest.mark.parametrize("asset_type,kind,direction,mode", CELLS,
                         ids=["-".join(p.value for p in c) for c in CELLS])
def test_check_mode_every_cell(asset_type: AssetType, kind: PathKind, direction: Direction,
                               mode: Mode) -> None:
    allowed = MATRIX[(asset_type, kind, direction)]
    if mode in allowed:
        check_mode(asset_type, direction, mode, kind)
        return
    with pytest.raises(ModeError) as info:
        check_mode(asset_type, direction, mode, kind, field="inputs.x.mode")
    text = info.value.render()
    assert f"'{mode.value}'" in text
    if allowed:  # the error lists what is allowed for this type and direction
        assert all(m.value in text for m in allowed)
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


@pytest.mark.parametrize("asset_type,direction,mode", SPEC_CELLS,
                         ids=["-".join(p.value for p in c) for c in SPEC_CELLS])
def test_spec_enforces_matrix_at_parse_time(asset_type: AssetType, direction: Direction,
                                            mode: Mode) -> None:
    """Before the path kind is known, a mode allowed for any kind of the type is accepted."""
    data = _job(asset_type, direction, mode)
    group = "inputs" if direction is Direction.INPUT else "outputs"
    if mode in allowed_modes(asset_type, direction):
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


PLAN_CELLS = [(t, k, d, m) for (t, k, d) in MATRIX for m in Mode if m in allowed_modes(t, d)]


@pytest.mark.parametrize("asset_type,kind,direction,mode", PLAN_CELLS,
                         ids=["-".join(p.value for p in c) for c in PLAN_CELLS])
def test_plan_enforces_matrix_with_resolved_kind(asset_type: AssetType, kind: PathKind, direction: Direction,
                                                 mode: Mode, tmp_path: Path) -> None:
    spec = spec_from_data(_job(asset_type, direction, mode))
    resolved = {"x": _resolved(kind, "/data/model.bin" if kind is PathKind.FILE else "/data/folder")}
    inputs, outputs = (resolved, {}) if direction is Direction.INPUT else ({}, resolved)
    if mode in MATRIX[(asset_type, kind, direction)]:
        plan = build_plan(spec, job_name="j", job_dir=JobDir(tmp_path), inputs=inputs, outputs=outputs,
                          environment=ResolvedEnvironment("i"))
        assert plan.bindings[0].mode is mode
        return
    with pytest.raises(ModeError) as info:
        build_plan(spec, job_name="j", job_dir=JobDir(tmp_path), inputs=inputs, outputs=outputs,
                          environment=ResolvedEnvironment("i"))
    assert "custom_model file input" in info.value.message  # the only kind-dependent refusal
    assert "uri_file" in (info.value.hint or "")


def test_matrix_markdown_has_every_row() -> None:
    table = matrix_markdown()
    assert len(table.splitlines()) == 2 + len(MATRIX)
    assert "| `custom_model` | file | input |  |  |  |  |  |" in table
