"""Every shell and Python example on the documentation pages runs against a real, isolated workspace (one
test per page), or is marked ``<!-- norun: reason -->``; blocks marked ``<!-- needs: docker -->`` (fuse,
azurite, examples) skip locally without that service and fail under CI=true, like the rest of the suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import parse_page
from docs_pages import DOCS, checkout_runner

PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    blocks = parse_page(page)  # raises on a broken convention (fence without language, orphan marker)
    runner = checkout_runner(tmp_path, request)
    runner.run(blocks)
    if runner.ran == 0 and runner.skipped:
        pytest.skip("; ".join(runner.skipped))


def test_pages_found() -> None:
    assert len(PAGES) > 15, f"documentation pages missing under {DOCS}"

