"""`runner cache ...` commands: inspect and prune the download content cache (``<workspace>/cache``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from runner.cli import _common
from runner.cli.model import OUTPUT, OutputFormat, emit

if TYPE_CHECKING:
    from mounts.cache import CacheEntry, ContentCache

app = typer.Typer(no_args_is_help=True)

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000**2,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1000**3, "gib": 1 << 30, "t": 1 << 40, "tb": 1000**4,
          "tib": 1 << 40}


def parse_size(text: str) -> int:
    """``"500M"``, ``"10GiB"``, ``"1.5g"`` or plain bytes → bytes (``K/M/G/T`` are binary units)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise typer.BadParameter(f"{text!r} is not a size; use bytes or a unit, e.g. 500M, 10G, 2GiB")
    return int(float(match.group(1)) * _UNITS[unit])


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _cache() -> ContentCache:
    from mounts.cache import ContentCache
    from runner.workspace import Workspace

    return ContentCache(Workspace(_common.STATE.workspace).cache_dir)


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _row(entry: CacheEntry) -> dict[str, Any]:
    return {"key": entry.key, "size": entry.size, "files": entry.files,
            "last_used": _when(entry.last_used), "created": _when(entry.created), "path": str(entry.data)}


@app.command("list")
def list_(output: OutputFormat = OUTPUT) -> None:
    """List cached downloads, most recently used first."""
    cache = _cache()
    entries = cache.entries()
    if output is not OutputFormat.table:
        emit([_row(e) for e in entries], output, [])
        return
    rows = [{**_row(e), "size": human_size(e.size)} for e in entries]
    emit(rows, output, ["key", "size", "files", "last_used"])
    total = sum(e.size for e in entries)
    typer.echo(f"{len(entries)} entries, {human_size(total)} of {human_size(cache.max_bytes)} "
               f"(cache: {cache.root})")


@app.command("prune")
def prune(
    max_size: str = typer.Option("0", "--max-size", help="Keep at most this much (e.g. 5G); "
                                 "least recently used entries go first. Default 0: empty the cache."),
) -> None:
    """Remove cached downloads (all, or least recently used ones beyond --max-size)."""
    limit = parse_size(max_size)
    cache = _cache()
    removed = cache.prune(limit)
    freed = sum(e.size for e in removed)
    typer.echo(f"removed {len(removed)} entries ({human_size(freed)}); "
               f"the cache now holds {human_size(cache.total_bytes())}")
