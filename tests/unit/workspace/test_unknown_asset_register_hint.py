"""An unknown data asset or model in a workspace where none is registered: the hint says how to register
it (the command, with the name and the version asked for; in Python the call), as the unknown component's
does, not to list what is registered (nothing). With some registered, the hint still lists them. As the
sweep of azureml-examples met it (``azureml:local-folder-example@latest``). Each workspace is the test's
own, in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import ResolveError
from runner.spec.data import Data
from runner.workspace.data_assets import DataAssetStore
from runner.workspace.db import Workspace
from runner.workspace.models import ModelStore
from runner.workspace.registry import DataRegistry

DATA_CLI = ("register it: `runner data create --name local-folder-example --version 1 --path "
            "<local path or URL> --type uri_folder`")
DATA_PY = ("register it: `ml_client.data.create_or_update(Data(name='local-folder-example', version='1', "
           "path='<local path or URL>', type=AssetTypes.URI_FOLDER))`")
MODEL_CLI = ("register it: `runner model create --name mymodel --version 3 --path <local path or URL> "
             "--type custom_model`")
MODEL_PY = ("register it: `ml_client.models.create_or_update(Model(name='mymodel', version='3', "
            "path='<local path or URL>', type=AssetTypes.CUSTOM_MODEL))`")


def test_an_unknown_data_asset_in_an_empty_workspace_says_how_to_register_it(tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as caught:
        DataAssetStore(Workspace(tmp_path / "ws")).get("local-folder-example", label="latest")
    err = caught.value
    assert err.message == ("unknown data asset 'local-folder-example'; no data assets are registered in this "
                           "workspace")
    assert err.hint == DATA_CLI and err.python_hint == DATA_PY
    assert f"hint: {DATA_PY}" in str(err) and "runner data" not in str(err)


def test_an_unknown_model_in_an_empty_workspace_says_how_to_register_it(tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as caught:
        ModelStore(Workspace(tmp_path / "ws")).get("mymodel", version="3")
    assert caught.value.hint == MODEL_CLI and caught.value.python_hint == MODEL_PY


def test_with_some_registered_the_hint_still_lists_them(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    folder = tmp_path / "d"
    folder.mkdir()
    DataRegistry(ws).create(Data(name="other", version="1", path=str(folder), type="uri_folder"))
    with pytest.raises(ResolveError) as caught:
        DataAssetStore(ws).get("local-folder-example")
    assert "data assets in this workspace: other" in caught.value.message
    assert "`runner data list --include-archived` shows every data asset" in (caught.value.hint or "")


def test_job_validate_prints_the_register_hint(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: ls ${{inputs.x}}\nenvironment:\n  image: runner/busybox:latest\ninputs:\n  x:\n"
                   "    type: uri_folder\n    path: azureml:local-folder-example@latest\n")
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(job))
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[1] == f"  hint: {DATA_CLI}", result.stderr


def test_the_web_ui_words_the_register_hint_for_a_browser_user() -> None:
    from runner.ui.words import browser_hint

    said = browser_hint(MODEL_CLI, "/ws", fields={})
    assert said == ("the Models list shows every model of the workspace this UI serves (/ws), none yet; "
                    "`runner model create` in a shell registers one (its --help says how)"), said
    data = browser_hint(DATA_CLI, "/ws", fields={})
    assert data is not None and data.startswith("the Data list shows every data asset"), data
    for words in (said, data):  # a browser's words: no command-line flags (tests/ui/test_ui_error_words.py)
        assert "--type" not in words and "--name" not in words, words


@pytest.mark.parametrize(("cli_hint", "python_hint"), [(DATA_CLI, DATA_PY), (MODEL_CLI, MODEL_PY)])
def test_a_recorded_register_hint_reads_as_the_python_hint(cli_hint: str, python_hint: str) -> None:
    """A job's record keeps the CLI's words (a pipeline step's error); a Python caller reads the call."""
    from runner.jobs.python_words import in_python

    recorded = f"step 'a': unknown data asset 'x'\n  hint: {cli_hint}"
    assert in_python(recorded) == f"step 'a': unknown data asset 'x'\n  hint: {python_hint}"
    assert in_python(in_python(recorded)) == in_python(recorded)
