"""`runner model|data archive --name x` then `restore --name x` gives back the versions the whole-asset
archive hid, not the one archived on its own before (the review's repro, through the real `runner`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli


@pytest.mark.parametrize(("group", "kind"), [("model", "custom_model"), ("data", "uri_file")])
def test_restoring_a_whole_asset_keeps_a_version_archived_on_its_own(workspace_dir: Path, tmp_path: Path,
                                                                     group: str, kind: str) -> None:
    (tmp_path / "f.txt").write_text("x\n")
    for _ in range(3):
        cli(workspace_dir, group, "create", "--name", "x", "--type", kind, "--path", str(tmp_path / "f.txt"),
            check=True)
    cli(workspace_dir, group, "archive", "--name", "x", "--version", "2", check=True)
    cli(workspace_dir, group, "archive", "--name", "x", check=True)
    hidden = cli(workspace_dir, group, "list", "--name", "x", "-o", "json", check=True)
    assert json.loads(hidden.stdout) == []
    cli(workspace_dir, group, "restore", "--name", "x", check=True)
    listed = cli(workspace_dir, group, "list", "--name", "x", "-o", "json", check=True)
    assert [(v["version"], v["archived"]) for v in json.loads(listed.stdout)] == [("3", False), ("1", False)]
    shown = cli(workspace_dir, group, "show", "--name", "x", "--version", "2", "-o", "json", check=True)
    assert json.loads(shown.stdout)["archived"] is True
