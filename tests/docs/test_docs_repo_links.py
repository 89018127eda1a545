"""The pages under docs/ read on GitHub (not built by MkDocs) have no broken link: every relative link
points at a file of the repository, the generated CLI reference included (a placeholder page is kept
there, which the build replaces with the generated one: ``scripts/mkdocs_hooks.py``)."""

from __future__ import annotations

import re
from pathlib import Path

from docs_pages import DOCS
from repo_paths import REPO

FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    links = [link.split("#", 1)[0] for link in LINK.findall(text)]
    return [link for link in links if link and ":" not in link]


def test_every_relative_link_of_the_docs_names_a_file_of_the_repository() -> None:
    broken = [f"{page.relative_to(REPO)}: {link}"
              for page in sorted(DOCS.rglob("*.md")) for link in _relative_links(page)
              if not (page.parent / link).exists()]
    assert broken == []


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[there](there.md#a) [here](page.md) [web](https://example.org/x.md)\n"
                    "`[not a link](nowhere.md)`\n```text\n[nor](this.md)\n```\n", encoding="utf-8")
    assert _relative_links(page) == ["there.md", "page.md"]


def test_the_cli_page_kept_in_docs_is_a_placeholder_the_build_replaces() -> None:
    kept = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert "runner --help" in kept and "generated" in kept
    # the built site has the generated page instead: tests/docs/test_docs_build.py finds every command on it
