"""`runner environment show` takes --version or --label as `model`, `data` and `component` do: not both,
and no label but `latest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli


@pytest.fixture
def two_versions(workspace_dir: Path) -> Path:
    for _ in range(2):
        cli(workspace_dir, "environment", "create", "--name", "e", "--image", "runner/busybox:latest",
            check=True)
    return workspace_dir


def _refused(ws: Path, *args: str) -> str:
    result = cli(ws, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    return result.stderr


def test_an_unknown_label_is_refused(two_versions: Path) -> None:
    text = _refused(two_versions, "environment", "show", "--name", "e", "--label", "bogus")
    assert "unknown label 'bogus'" in text and "hint: the only label is 'latest'" in text


def test_a_version_and_a_label_together_are_refused(two_versions: Path) -> None:
    text = _refused(two_versions, "environment", "show", "--name", "e", "--version", "1", "--label", "latest")
    assert "give --version or --label, not both" in text


def test_the_latest_label_and_a_version_still_show(two_versions: Path) -> None:
    def version(*args: str) -> str:
        shown = cli(two_versions, "environment", "show", "--name", "e", *args, "-o", "json", check=True)
        return str(json.loads(shown.stdout)["version"])

    assert version("--label", "latest") == "2"
    assert version() == "2"
    assert version("--version", "1") == "1"


@pytest.mark.parametrize("version", ["latest", "Latest", "bad version"])
def test_latest_and_bad_versions_are_refused_at_create(workspace_dir: Path, version: str) -> None:
    """`latest` is the label of the newest version (as for models and data): a version of that name would
    make `--version latest` and `--label latest` name different environments."""
    text = _refused(workspace_dir, "environment", "create", "--name", "e", "--image", "runner/busybox:latest",
                    "--version", version)
    assert "version" in text and "hint:" in text
