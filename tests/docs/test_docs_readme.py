"""The README is the front door: short, naming the test command `.ci/run` runs, linking only to files
that exist, and its 30-second example (register a model, run a job that reads it, see the lineage) runs
as written against a real, isolated workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs_examples import parse_page
from docs_pages import checkout_runner
from repo_paths import REPO

README = REPO / "README.md"


def test_readme_is_short_and_names_the_test_command() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 150, "the README is a front door: move details into docs/"
    assert "bash scripts/test.sh" in text
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_readme_links_point_at_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links into docs/"
    for link in local:
        assert (REPO / link).exists(), f"README links to {link}, which does not exist"


def test_readme_examples_run(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    blocks = parse_page(README)
    assert any(b.runnable and b.lang == "console" for b in blocks), "the 30-second example is gone"
    runner = checkout_runner(tmp_path, request)
    runner.run(blocks)
    assert runner.ran >= 2
