"""Every shell and Python example on the documentation pages runs against a real, isolated workspace (one
test per page), or is marked ``<!-- norun: reason -->`` (a page of norun blocks passes with their reasons
recorded, it does not skip); blocks marked ``<!-- needs: docker -->`` (fuse,
azurite, examples) skip locally without that service and fail under CI=true, like the rest of the suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import parse_page
from docs_pages import DOCS, checkout_runner

PAGES = sorted(DOCS.rglob("*.md"))
# a block's `<!-- needs: NAME -->` -> the marker its page's test carries (selection, marker audit)
NEED_MARKERS = {"docker": pytest.mark.docker, "fuse": pytest.mark.fuse, "azurite": pytest.mark.azure,
                "examples": pytest.mark.examples}


def _page_param(page: Path) -> object:
    try:
        needs = {need for block in parse_page(page) for need in block.needs}
    except Exception:  # noqa: BLE001 - a broken page fails in the test itself, with its message
        needs = set()
    return pytest.param(page, id=str(page.relative_to(DOCS)),
                        marks=[NEED_MARKERS[n] for n in sorted(needs) if n in NEED_MARKERS])


@pytest.mark.parametrize("page", [_page_param(p) for p in PAGES])
def test_page_examples(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    blocks = parse_page(page)  # raises on a broken convention (fence without language, orphan marker)
    runner = checkout_runner(tmp_path, request)
    runner.run(blocks)
    # a page whose examples are all marked norun (e.g. commands that take minutes) runs nothing: each
    # block must say why (under CI=true a skip would be a failure, and this is not a missing service)
    for reason in runner.skipped:
        assert reason.rsplit(": ", 1)[-1].strip(), f"a norun block without a reason: {reason}"
    if runner.ran == 0 and runner.skipped:
        request.node.user_properties.append(("norun", "; ".join(runner.skipped)))


def test_pages_found() -> None:
    assert len(PAGES) > 15, f"documentation pages missing under {DOCS}"

