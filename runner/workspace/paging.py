"""One page of a listing (``LIMIT``/``OFFSET`` in SQL, never a whole table read to show fifty rows).

    page = ModelStore(ws).page(limit=50, offset=100, tag="stage=prod")
    page.items, page.total, page.has_more, page.next_offset
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """``items`` from position ``offset`` of ``total`` matching rows (at most ``limit`` of them)."""

    items: list[T]
    offset: int
    limit: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.has_more else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def window(offset: int | None, limit: int | None) -> tuple[int, int]:
    """A safe ``(offset, limit)``: offset >= 0, 1 <= limit <= ``MAX_PAGE_SIZE``."""
    size = DEFAULT_PAGE_SIZE if not limit or limit < 1 else min(int(limit), MAX_PAGE_SIZE)
    return max(0, int(offset or 0)), size
