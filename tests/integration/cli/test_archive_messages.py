"""`model archive` / `data archive` (and restore) by label say which version they changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli


@pytest.mark.parametrize(("group", "noun"), [("model", "model"), ("data", "data asset")])
def test_archive_and_restore_by_label_name_the_version(workspace_dir: Path, tmp_path: Path, group: str,
                                                       noun: str) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    for version in ("1", "2"):
        cli(workspace_dir, group, "create", "--name", "m", "--version", version, "--type", "uri_file"
            if group == "data" else "custom_model", "--path", str(tmp_path / "f.txt"), check=True)
    archived = cli(workspace_dir, group, "archive", "--name", "m", "--label", "latest", check=True)
    assert archived.stdout.strip() == f"archived {noun} 'm' version 2"
    restored = cli(workspace_dir, group, "restore", "--name", "m", "--version", "2", check=True)
    assert restored.stdout.strip() == f"restored {noun} 'm' version 2"
    everything = cli(workspace_dir, group, "archive", "--name", "m", check=True)
    assert everything.stdout.strip() == f"archived {noun} 'm' (every version)"
