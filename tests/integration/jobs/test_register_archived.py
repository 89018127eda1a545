"""A job output registered under an archived model or data asset makes a version born archived (as Azure
does: a new version under an archived container is archived too), hidden from ``list``: the job's
summary, ``job show`` and its record say so, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli, write_job

JOB = """
    command: echo m > ${{outputs.m}}/model.txt && echo d > ${{outputs.d}}/data.txt
    outputs:
      m: {type: custom_model, mode: upload, name: clf}
      d: {type: uri_folder, mode: upload, name: feats}
    compute: local-process
    environment:
      image: runner/python:3.11
    """


@pytest.mark.parametrize("archived", [True, False])
def test_a_version_born_archived_is_said_archived(workspace_dir: Path, tmp_path: Path,
                                                  archived: bool) -> None:
    ws = workspace_dir
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "a.txt").write_text("a")
    cli(ws, "model", "create", "--name", "clf", "--path", str(tmp_path / "seed"), check=True)
    cli(ws, "data", "create", "--name", "feats", "--path", str(tmp_path / "seed"), check=True)
    if archived:
        cli(ws, "model", "archive", "--name", "clf", check=True)
        cli(ws, "data", "archive", "--name", "feats", check=True)
    result = cli(ws, "job", "create", "--file", str(write_job(tmp_path, JOB)), "--stream", "--name", "reg")
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(cli(ws, "job", "show", "--name", "reg", "-o", "json", check=True).stdout)
    assert record["registered_models"] == ["azureml:clf:2"]
    assert record["registered_data"] == ["azureml:feats:2"]
    notes = record["extra"].get("registered_archived", {})
    shown = cli(ws, "job", "show", "--name", "reg", check=True).stdout
    if not archived:
        assert notes == {} and "archived" not in result.stdout and "archived" not in shown
        return
    assert set(notes) == {"azureml:clf:2", "azureml:feats:2"}
    assert "model 'clf' is archived" in notes["azureml:clf:2"]
    assert "runner model restore --name clf" in notes["azureml:clf:2"]
    assert "data asset 'feats' is archived" in notes["azureml:feats:2"]
    assert "Registered models: azureml:clf:2 (archived)" in result.stdout
    assert "Registered data assets: azureml:feats:2 (archived)" in result.stdout
    assert notes["azureml:clf:2"] in result.stdout and notes["azureml:feats:2"] in result.stdout
    assert "azureml:clf:2 (archived)" in shown
