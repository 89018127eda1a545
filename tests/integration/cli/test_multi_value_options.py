"""Options that take several values after one flag, as az's do: `--tags k1=v1 k2=v2` on `model create` /
`data create`, `--set f=v g=w` and `--remove a b` on `model update` / `data update`; repeating the flag
works too, and a word that is not key=value is refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "somefolder"
    target.mkdir()
    (target / "a.txt").write_text("a\n")
    return target


def _json(ws: Path, *args: str) -> dict[str, Any]:
    result = cli(ws, *args, "-o", "json", check=True)
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.parametrize("kind", ["model", "data"])
def test_tags_take_several_pairs_after_one_flag(workspace_dir: Path, folder: Path, kind: str) -> None:
    created = _json(workspace_dir, kind, "create", "--name", "a", "--path", str(folder),
                    "--tags", "a=1", "b=2", "--description", "d")
    assert created["tags"] == {"a": "1", "b": "2"} and created["description"] == "d"
    repeated = _json(workspace_dir, kind, "create", "--name", "a", "--path", str(folder),
                     "--tags", "a=1", "--tags", "b=2", "c=3")
    assert repeated["tags"] == {"a": "1", "b": "2", "c": "3"}


@pytest.mark.parametrize("kind", ["model", "data"])
def test_set_and_remove_take_several_values(workspace_dir: Path, folder: Path, kind: str) -> None:
    ws = workspace_dir
    cli(ws, kind, "create", "--name", "a", "--path", str(folder), "--tags", "x=1", "y=2", "z=3", check=True)
    updated = _json(ws, kind, "update", "--name", "a", "--version", "1",
                    "--set", "description=new", "tags.w=4", "--remove", "tags.x", "tags.y")
    assert updated["description"] == "new" and updated["tags"] == {"z": "3", "w": "4"}


def test_a_word_that_is_not_a_pair_is_named(workspace_dir: Path, folder: Path) -> None:
    result = cli(workspace_dir, "model", "create", "--name", "a", "--path", str(folder), "--tags", "a=1", "b")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "--tags expects key=value, got 'b'" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected extra argument" not in result.stderr


def test_job_set_takes_several_fields_after_one_flag(workspace_dir: Path, tmp_path: Path) -> None:
    """`runner job validate|create --set a=1 b=2`, as `az ml job create --set` takes several."""
    job = tmp_path / "job.yml"
    job.write_text("command: echo ${{inputs.a}} ${{inputs.b}}\ninputs:\n  a: 1\n  b: 2\n"
                   "environment:\n  image: runner/busybox:latest\n")
    plan = _json(workspace_dir, "job", "validate", "--file", str(job), "--set", "inputs.a=10", "inputs.b=20")
    assert plan["command"] == "echo 10 20"
    refused = cli(workspace_dir, "job", "validate", "--file", str(job), "--set", "inputs.a=10", "oops")
    assert refused.returncode == 2 and "--set 'oops' is not key=value" in refused.stderr
