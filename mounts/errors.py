"""Errors of the materialization layer. ``runner.workspace.transfers.translated`` turns them into
``runner.errors`` at one boundary; ``mounts`` never imports ``runner``."""

from __future__ import annotations

from pathlib import Path


class MountsError(Exception):
    """Base class for errors raised by ``mounts``."""


class MountFailed(MountsError):
    """A FUSE mount could not be made, did not become ready in time, or could not be unmounted."""


class TransferFailed(MountsError):
    """Some files could not be transferred; ``staged`` keeps what was not made durable."""

    def __init__(self, message: str, failed: list[str], staged: Path | None = None) -> None:
        super().__init__(message)
        self.failed = failed
        self.staged = staged
