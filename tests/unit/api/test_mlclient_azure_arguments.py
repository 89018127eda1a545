"""``MLClient`` takes azure.ai.ml's arguments, positional or keyword, and says what it does with them.

Azure's ``subscription_id``, ``resource_group_name`` and ``workspace_name`` pick an Azure workspace, which
is not used here: one warning (logger ``runner.client``) names them, the local workspace used and where it
came from (``RUNNER_WORKSPACE`` or the default), and how to choose one (``workspace_dir=``); a client given
``workspace_dir`` is not warned. azure.ai.ml's other keywords (``show_progress``, ``cloud``...) are taken
silently. A keyword neither takes (``workspace=``, ``workspace_directory=``) is one ``SpecError`` naming it
and the close one, as ``Model(...)`` does, before any workspace is made.

``MLClient.from_config(path=...)`` reads the config file Azure's would (the file, or ``config.json`` in a
folder, its ``.azureml/`` or its parents): its ``runner_workspace`` key (relative to the file) chooses the
local workspace; without one, its Azure workspace is warned of as the arguments are. An explicit ``path``
that holds no config file, or a file that is not a JSON object, is one ``SpecError``.
Every workspace here is under tmp_path (``HOME`` and ``XDG_DATA_HOME`` point there)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from runner import MLClient
from runner.errors import SpecError


@pytest.fixture
def default_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default workspace, under tmp_path; no RUNNER_WORKSPACE; run from an empty folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("RUNNER_WORKSPACE", raising=False)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path / "data" / "runner"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "runner.client" and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("make", [
    lambda: MLClient(object(), "sub-1", "rg-1", "prod-ws"),
    lambda: MLClient(credential=object(), subscription_id="sub-1", resource_group_name="rg-1",
                     workspace_name="prod-ws"),
], ids=["positional", "keywords"])
def test_an_azure_workspace_is_warned_of_once(default_ws: Path, caplog: pytest.LogCaptureFixture,
                                              make: object) -> None:
    with caplog.at_level(logging.DEBUG):
        client = make()  # type: ignore[operator]
    assert client.workspace.root == default_ws.resolve()
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == \
        ("sub-1", "rg-1", "prod-ws")
    [said] = _warnings(caplog)
    for words in ("workspace_name='prod-ws'", "subscription_id", "resource_group_name",
                  str(default_ws.resolve()), "the default", "MLClient(workspace_dir=...)",
                  "RUNNER_WORKSPACE"):
        assert words in said, said


def test_the_warning_names_runner_workspace_when_it_chose(default_ws: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(tmp_path / "env-ws"))
    with caplog.at_level(logging.WARNING):
        client = MLClient(object(), "sub-1", "rg-1", "dev-ws")
    assert client.workspace.root == (tmp_path / "env-ws").resolve()
    [said] = _warnings(caplog)
    assert "workspace_name='dev-ws'" in said and str((tmp_path / "env-ws").resolve()) in said, said
    assert "RUNNER_WORKSPACE" in said and "the default" not in said, said


def test_workspace_dir_chooses_and_nothing_is_warned(default_ws: Path, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        dev = MLClient(object(), "sub-1", "rg-1", "dev-ws", workspace_dir=tmp_path / "dev")
        prod = MLClient(object(), "sub-1", "rg-1", "prod-ws", workspace_dir=tmp_path / "prod")
        plain = MLClient(workspace_dir=tmp_path / "plain")
    assert dev.workspace.root != prod.workspace.root
    assert plain.workspace_name is None
    assert _warnings(caplog) == []
    assert not default_ws.exists()


def test_azures_other_keywords_are_taken_silently(default_ws: Path, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        client = MLClient(object(), show_progress=False, enable_telemetry=False, cloud="AzureCloud",
                          user_agent="x", workspace_dir=tmp_path / "ws")
        registry = MLClient(object(), None, None, None, "HuggingFace", workspace_dir=tmp_path / "ws")
    assert client.workspace.root == (tmp_path / "ws").resolve()
    assert registry.registry_name == "HuggingFace"  # azure.ai.ml's fifth positional argument
    assert _warnings(caplog) == []


@pytest.mark.parametrize(("keyword", "close"), [("workspace", "workspace_dir"),
                                                ("workspace_directory", "workspace_dir"),
                                                ("resource_group", "resource_group_name")])
def test_an_unknown_keyword_is_one_error_naming_the_close_one(default_ws: Path, tmp_path: Path, keyword: str,
                                                              close: str) -> None:
    with pytest.raises(SpecError) as info:
        MLClient(**{keyword: str(tmp_path / "x")})
    err = info.value
    assert err.field == keyword
    text = str(err)
    assert f"MLClient() got an unknown keyword '{keyword}' (did you mean '{close}'?)" in text, text
    assert "workspace_dir" in text.split("hint:", 1)[1], text
    assert not (tmp_path / "x").exists() and not default_ws.exists()  # no workspace made


# ---- from_config ------------------------------------------------------------------------------------
def _config(folder: Path, **keys: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps({"subscription_id": "sub-1", "resource_group": "rg-1", **keys}))
    return path


def test_from_config_warns_of_the_files_azure_workspace(default_ws: Path, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    path = _config(tmp_path / "prod", workspace_name="prod-ws")
    with caplog.at_level(logging.WARNING):
        client = MLClient.from_config(object(), path=path)
    assert client.workspace.root == default_ws.resolve()
    assert client.workspace_name == "prod-ws"
    [said] = _warnings(caplog)
    for words in ("'prod-ws'", str(path), str(default_ws.resolve()), "runner_workspace", "workspace_dir"):
        assert words in said, said


def test_from_config_takes_the_files_runner_workspace(default_ws: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(tmp_path / "env-ws"))  # the config file's key comes first
    dev = _config(tmp_path / "dev", workspace_name="dev-ws", runner_workspace="ws")
    _config(tmp_path / "prod" / ".azureml", workspace_name="prod-ws", runner_workspace="../ws")
    with caplog.at_level(logging.WARNING):
        dev_client = MLClient.from_config(object(), path=dev)
        prod_client = MLClient.from_config(object(), path=tmp_path / "prod")  # a folder: searched as Azure's
        chosen = MLClient.from_config(object(), path=dev, workspace_dir=tmp_path / "given")
    assert dev_client.workspace.root == (tmp_path / "dev" / "ws").resolve()
    assert prod_client.workspace.root == (tmp_path / "prod" / "ws").resolve()
    assert prod_client.workspace_name == "prod-ws"
    assert chosen.workspace.root == (tmp_path / "given").resolve()
    assert _warnings(caplog) == []


def test_from_config_without_a_file_uses_the_default_quietly(default_ws: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        client = MLClient.from_config(object())
    assert client.workspace.root == default_ws.resolve()
    assert _warnings(caplog) == []


def test_from_config_found_in_a_parent_folder(default_ws: Path, tmp_path: Path) -> None:
    _config(tmp_path / "cwd", workspace_name="w", runner_workspace="here")
    (tmp_path / "cwd" / "sub").mkdir()
    client = MLClient.from_config(object(), path=tmp_path / "cwd" / "sub")
    assert client.workspace.root == (tmp_path / "cwd" / "here").resolve()


@pytest.mark.parametrize(("where", "problem"), [("nowhere/config.json", "does not exist"),
                                               ("empty", "no config file (config.json or project.json) in")])
def test_from_config_with_a_path_that_holds_none(default_ws: Path, tmp_path: Path, where: str,
                                                 problem: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError) as info:
        MLClient.from_config(object(), path=tmp_path / where)
    text = str(info.value)
    assert problem in text and str(tmp_path / where) in text, text
    assert "workspace_dir=" in text and "path" in text, text
    assert not default_ws.exists()


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "is not JSON"),
    ("[1, 2]", "is not a JSON object"),
    ('{"runner_workspace": 3}', "runner_workspace"),
    ('{"runner_workspace": ""}', "runner_workspace"),
])
def test_from_config_with_a_bad_file(default_ws: Path, tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(SpecError) as info:
        MLClient.from_config(object(), path=path)
    text = str(info.value)
    assert str(path) in text and problem in text, text
    assert "Traceback" not in text and not default_ws.exists()
