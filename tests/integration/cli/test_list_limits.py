"""``--max-results`` below 1 is refused by every list command that has it (a negative value used to drop
rows from the end, 0 and -1 to list everything)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli


@pytest.mark.parametrize("group", ["model", "data", "job"])
@pytest.mark.parametrize("value", ["0", "-1", "-2"])
def test_max_results_below_one_is_refused(workspace_dir: Path, group: str, value: str) -> None:
    result = cli(workspace_dir, group, "list", "--max-results", value)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--max-results" in result.stderr and "1" in result.stderr and "Traceback" not in result.stderr
    short = cli(workspace_dir, group, "list", "-r", value)
    assert short.returncode == 2, short.stdout + short.stderr


@pytest.mark.parametrize("group", ["model", "data", "job"])
def test_max_results_of_one_or_more_is_accepted(workspace_dir: Path, group: str) -> None:
    assert cli(workspace_dir, group, "list", "-r", "1").returncode == 0
