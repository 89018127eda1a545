"""`runner cache ...` commands: inspect and prune the download content cache (``<workspace>/cache``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from runner.cli import _common
from runner.cli._common import emit, output_option, query_option_for

if TYPE_CHECKING:
    from mounts.cache import ContentCache, Held  # start-up cost: imported by the command that uses it

app = click.Group("cache", help="Inspect and prune the download cache.", no_args_is_help=True)
query_option = query_option_for("[?partial].key")


def parse_size(text: str) -> int:
    """``"500M"``, ``"10GiB"``, ``"1.5g"`` or plain bytes → bytes (``K/M/G/T`` are binary units)."""
    from mounts.cache import size_from_text  # start-up cost: imported by the command that uses it

    try:
        return size_from_text(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _cache() -> ContentCache:
    from mounts.cache import ContentCache  # start-up cost: imported by the command that uses it
    from mounts.errors import MountsError
    from runner.errors import RunnerError
    from runner.workspace.db import Workspace

    try:
        return ContentCache(Workspace(_common.STATE.workspace).cache_dir)
    except MountsError as exc:
        raise RunnerError(str(exc), hint="set it to a size such as 50G, or unset it (20 GiB)") from None


def _when(timestamp: float) -> str:
    """A time as every output shows it (UTC, ``Z``)."""
    return _common.iso_z(datetime.fromtimestamp(timestamp, UTC))


def _partial(entry: Held) -> bool:
    """Whether ``entry`` is a partial one: a download in progress or cut short, kept to resume."""
    from mounts.cache_partial import PartialEntry  # loaded with mounts.cache by then

    return isinstance(entry, PartialEntry)


def _row(entry: Held) -> dict[str, Any]:
    return {"key": entry.key, "size": entry.size, "files": entry.files, "last_used": _when(entry.last_used),
            "created": _when(entry.created), "path": str(entry.data), "partial": _partial(entry)}


@app.command("list")
@output_option()
@query_option
def list_(output: str, query: str | None) -> None:
    """List cached downloads, most recently used first.

    A partial one (a download in progress or cut short, kept to resume) counts toward the size limit
    too."""
    cache = _cache()
    held: list[Held] = [*cache.entries(), *cache.partials()]
    entries = sorted(held, key=lambda e: e.last_used, reverse=True)
    if output != "table" or query is not None:  # the data -o json prints
        emit([_row(e) for e in entries], output, [], query)
        return
    rows = [{**_row(e), "key": e.key or f"(digest {e.digest})", "size": human_size(e.size),
             "state": "partial" if _partial(e) else "complete"} for e in entries]
    emit(rows, output, ["key", "state", "size", "files", "last_used"])
    total = sum(e.size for e in entries)
    partial = sum(1 for e in entries if _partial(e))
    click.echo(f"{len(entries)} entries{f' ({partial} partial)' if partial else ''}, {human_size(total)} of "
               f"{human_size(cache.max_bytes)} (cache: {cache.root})")


@app.command("prune")
@click.option("--max-size", default="0", help="Keep at most this much (e.g. 5G); least recently used "
              "entries go first. Default 0: empty the cache.")
def prune(max_size: str) -> None:
    """Remove cached downloads.

    All of them, or the least recently used ones beyond --max-size; and every partial download no job
    is resuming."""
    limit = parse_size(max_size)
    cache = _cache()
    removed = cache.prune(limit)
    freed = sum(e.size for e in removed)
    partial = sum(1 for e in removed if _partial(e))
    dropped = f" and {partial} partial download{'s' if partial > 1 else ''}" if partial else ""
    click.echo(f"removed {len(removed) - partial} entries{dropped} ({human_size(freed)}); "
               f"the cache now holds {human_size(cache.total_bytes())}")
