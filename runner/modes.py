"""The supported-modes matrix, as data.

The seed's table ("Supported modes", Register and work with models) plus Azure ML's rules for the types
the seed does not list. Validation, error messages and the docs' table are all generated from
``MATRIX``; nothing else in the code decides which mode is allowed.
"""

from __future__ import annotations

from enum import StrEnum

from runner.errors import ModeError, SourceLocation


class Mode(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    RO_MOUNT = "ro_mount"
    RW_MOUNT = "rw_mount"
    DIRECT = "direct"


class Direction(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


class AssetType(StrEnum):
    CUSTOM_MODEL = "custom_model"
    MLFLOW_MODEL = "mlflow_model"
    TRITON_MODEL = "triton_model"
    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"


class PathKind(StrEnum):
    """Whether a resolved path is a file or a folder. ``ANY`` is used before resolution."""

    FILE = "file"
    FOLDER = "folder"
    ANY = "any"


MODEL_TYPES = frozenset({AssetType.CUSTOM_MODEL, AssetType.MLFLOW_MODEL, AssetType.TRITON_MODEL})

_IN = Direction.INPUT
_OUT = Direction.OUTPUT
_F = PathKind.FILE
_D = PathKind.FOLDER
_A = PathKind.ANY
_M = Mode

# (type, path kind, direction) -> allowed modes. Rows marked "seed" are the seed's table verbatim; the
# others follow Azure ML's rules for uri_* / mltable / triton (triton_model behaves like a custom folder).
MATRIX: dict[tuple[AssetType, PathKind, Direction], frozenset[Mode]] = {
    (AssetType.CUSTOM_MODEL, _F, _IN): frozenset(),  # seed
    (AssetType.CUSTOM_MODEL, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),  # seed
    (AssetType.MLFLOW_MODEL, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT}),  # seed
    (AssetType.CUSTOM_MODEL, _F, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),  # seed
    (AssetType.CUSTOM_MODEL, _D, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),  # seed
    (AssetType.MLFLOW_MODEL, _D, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),  # seed
    (AssetType.TRITON_MODEL, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),
    (AssetType.TRITON_MODEL, _D, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),
    (AssetType.URI_FILE, _F, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),
    (AssetType.URI_FILE, _F, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),
    (AssetType.URI_FOLDER, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),
    (AssetType.URI_FOLDER, _D, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),
    (AssetType.MLTABLE, _D, _IN): frozenset({_M.DOWNLOAD, _M.RO_MOUNT, _M.DIRECT}),
    (AssetType.MLTABLE, _D, _OUT): frozenset({_M.UPLOAD, _M.RW_MOUNT, _M.DIRECT}),
}

DEFAULT_MODE: dict[Direction, Mode] = {_IN: Mode.RO_MOUNT, _OUT: Mode.RW_MOUNT}

# The path kind each type has when the matrix lists only one (mlflow/triton/uri_folder are folders).
_ROW_KINDS: dict[tuple[AssetType, Direction], tuple[PathKind, ...]] = {}
for (_t, _k, _d) in MATRIX:
    _ROW_KINDS.setdefault((_t, _d), ())
    _ROW_KINDS[(_t, _d)] += (_k,)


def allowed_modes(asset_type: AssetType, direction: Direction, kind: PathKind = _A) -> frozenset[Mode]:
    """Modes allowed for a type and direction; with ``kind=ANY`` the union over the type's rows."""
    kinds = _ROW_KINDS[(asset_type, direction)] if kind is _A else (kind,)
    modes: frozenset[Mode] = frozenset()
    for k in kinds:
        modes |= MATRIX.get((asset_type, k, direction), frozenset())
    return modes


def _sorted(modes: frozenset[Mode]) -> list[str]:
    return [m.value for m in Mode if m in modes]


def check_mode(
    asset_type: AssetType,
    direction: Direction,
    mode: Mode,
    kind: PathKind = _A,
    *,
    field: str | None = None,
    where: SourceLocation | None = None,
) -> None:
    """Raise ``ModeError`` when the matrix refuses ``mode`` for this type, direction and path kind."""
    allowed = allowed_modes(asset_type, direction, kind)
    if mode in allowed:
        return
    what = f"{asset_type.value} {kind.value} {direction.value}" if kind is not _A else (
        f"{asset_type.value} {direction.value}")
    if not allowed:
        hint = None
        if asset_type is AssetType.CUSTOM_MODEL and kind is _F and direction is _IN:
            hint = ("use type: uri_file for a single file, or point the custom_model input at the "
                    "model's folder")
        raise ModeError(
            f"a {what} has no supported mode (supported-modes matrix); '{mode.value}' cannot be used",
            field=field, where=where, hint=hint)
    raise ModeError(
        f"mode '{mode.value}' is not supported for a {what}; allowed: {', '.join(_sorted(allowed))}",
        field=field, where=where,
        hint=f"set mode to one of: {', '.join(_sorted(allowed))}")


def matrix_markdown() -> str:
    """The type x direction x mode table, as Markdown (the docs' table is generated from this)."""
    header = "| Type | Path | Direction | " + " | ".join(f"`{m.value}`" for m in Mode) + " |"
    rule = "|---|---|---|" + "|".join(":---:" for _ in Mode) + "|"
    rows = [header, rule]
    order = sorted(MATRIX, key=lambda r: (list(AssetType).index(r[0]), list(Direction).index(r[2]),
                                          list(PathKind).index(r[1])))
    for t, k, d in order:
        modes = MATRIX[(t, k, d)]
        cells = " | ".join("✓" if m in modes else "" for m in Mode)
        rows.append(f"| `{t.value}` | {k.value} | {d.value} | {cells} |")
    return "\n".join(rows)


def path_kinds(asset_type: AssetType, direction: Direction) -> tuple[PathKind, ...]:
    """The path kinds the matrix has rows for (e.g. uri_file: FILE; custom_model: FILE and FOLDER)."""
    return _ROW_KINDS.get((asset_type, direction), ())
