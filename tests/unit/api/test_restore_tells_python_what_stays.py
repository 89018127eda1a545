"""``ml_client.models.restore(name)`` (and ``ml_client.data.restore``) returns None, as azure-ai-ml's does,
but a whole restore that leaves versions archived on their own archived tells the caller which, as the
CLI's line does (``test_restore_says_what_stays``): one warning on the ``runner.client`` logger, in Python
words (``ml_client.models.restore('m', version='1')``), oldest version first. A restore that leaves none
archived, or that restores one version, warns nothing. The CLI's ``restore`` prints its one line only
(no second copy of the notice)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient
from runner.cli.main import app
from runner.spec.data import Data
from runner.spec.model import Model


def _client(tmp_path: Path, group: str) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "f.txt").write_text("x\n")
    for version in ("1", "2", "3", "10"):
        if group == "models":
            client.models.create_or_update(Model(name="m", version=version, path=str(tmp_path / "f.txt")))
        else:
            client.data.create_or_update(Data(name="m", version=version, type="uri_file",
                                              path=str(tmp_path / "f.txt")))
    return client


def _notices(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "runner.client" and r.levelno >= logging.WARNING]


@pytest.mark.parametrize(("group", "noun"), [("models", "model"), ("data", "data asset")])
def test_a_whole_restore_warns_which_versions_stay_archived(tmp_path: Path, group: str, noun: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    client = _client(tmp_path, group)
    ops = client.models if group == "models" else client.data
    ops.archive("m", version="1")  # archived on its own
    ops.archive("m")
    with caplog.at_level(logging.WARNING, logger="runner.client"):
        assert ops.restore("m") is None  # azure-ai-ml's return
    [notice] = _notices(caplog)
    said = notice.getMessage()
    assert said.startswith(f"restored {noun} 'm'; version 1 stays archived"), said
    assert f"ml_client.{group}.restore('m', version='1')" in said
    assert "runner " not in said and "--" not in said, said

    caplog.clear()
    ops.archive("m", version="10")
    ops.archive("m", version="3")
    ops.archive("m")
    with caplog.at_level(logging.WARNING, logger="runner.client"):
        ops.restore("m")
    [notice] = _notices(caplog)
    said = notice.getMessage()
    assert "versions 1, 3, 10 stay archived" in said, said  # oldest first, as the CLI lists them
    assert f"ml_client.{group}.restore('m', version='<version>')" in said
    assert f"ml_client.{group}.list(name='m', list_view_type=ListViewType.ARCHIVED_ONLY)" in said

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="runner.client"):
        for version in ("1", "3", "10"):
            ops.restore("m", version=version)  # one version: nothing else to tell
        ops.archive("m")
        ops.restore("m")  # none stays archived
    assert _notices(caplog) == []


def test_the_cli_prints_its_line_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(tmp_path, "models")
    client.models.archive("m", version="1")
    client.models.archive("m")
    with caplog.at_level(logging.WARNING, logger="runner.client"):
        result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "model", "restore", "--name",
                                          "m"])
    assert result.exit_code == 0, result.output
    assert result.output.count("stays archived") == 1, result.output
    assert "runner model restore --name m --version 1" in result.output
    assert _notices(caplog) == []
