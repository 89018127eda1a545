"""Placeholder: the lean Azure Blob client (filled in later)."""

from __future__ import annotations

from typing import Any


def azure_store_for(fs: Any) -> Any:
    return None
