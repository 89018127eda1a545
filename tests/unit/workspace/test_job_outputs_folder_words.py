"""An output in ``azureml/`` (or ``ExperimentRun/``) of the default datastore, not below the job's own
name, is refused, and the refusal says why in words that hold in an empty workspace too: that folder is
where runner keeps every job's default outputs (``azureml/<job>/...``), so a job writes there only under
its own name; the hint names another path (``paths/<something>``), not registered versions. As the sweep
of azureml-examples met it (4b_datastore_datapath_uri, a command job writing ``azureml/my_shared_folder``).
Every workspace is the test's own, in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import SpecError
from runner.modes import Mode
from runner.workspace.db import Workspace
from runner.workspace.protect import WriteGuard
from runner.workspace.resolve import Resolver

DEFAULT = "azureml://datastores/workspaceblobstore/paths"


def _explain(ws: Workspace, uri: str, mode: Mode = Mode.UPLOAD) -> tuple[str, str]:
    resolver = Resolver(ws)
    output = resolver.resolve_output(uri, job_name="j1", output_name="o")
    found = WriteGuard(ws, resolver.datastores).explain(output, job_name="j1", mode=mode)
    assert found is not None, uri
    return found


@pytest.mark.parametrize("mode", [Mode.UPLOAD, Mode.RW_MOUNT, Mode.DIRECT])
def test_a_shared_folder_in_azureml_is_refused_in_words_true_of_an_empty_workspace(tmp_path: Path,
                                                                                   mode: Mode) -> None:
    ws = Workspace(tmp_path / "ws")
    why, hint = _explain(ws, f"{DEFAULT}/azureml/my_shared_folder", mode)
    assert "other jobs' outputs" not in why, why
    assert (f"'{DEFAULT}/azureml/my_shared_folder' lies in azureml/ of the default datastore "
            "(workspaceblobstore), where runner keeps every job's default outputs (azureml/<job>/…); a job "
            "writes there only under its own name") in why, why
    assert "registered" not in hint and "name/version" not in hint, hint
    assert f"{DEFAULT}/<something>" in hint, hint


def test_the_folder_itself_and_one_holding_it_say_so(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    why, _ = _explain(ws, f"{DEFAULT}/azureml")
    assert f"'{DEFAULT}/azureml' is azureml/ of the default datastore" in why, why
    assert f"'{DEFAULT}/' holds azureml/ of the default datastore" in _explain(ws, f"{DEFAULT}/")[0]
    why, _ = _explain(ws, f"{DEFAULT}/ExperimentRun/dcid.other")
    assert "lies in ExperimentRun/ of the default datastore (workspaceblobstore), where runner keeps every " \
           "job's artifacts (ExperimentRun/dcid.<job>/…)" in why, why


def test_the_jobs_own_folder_stays_writable(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    resolver = Resolver(ws)
    guard = WriteGuard(ws, resolver.datastores)
    for uri in (f"{DEFAULT}/azureml/j1/o", f"{DEFAULT}/ExperimentRun/dcid.j1/o", f"{DEFAULT}/shared/o"):
        output = resolver.resolve_output(uri, job_name="j1", output_name="o")
        assert guard.explain(output, job_name="j1", mode=Mode.UPLOAD) is None, uri


def test_refuse_raises_one_spec_error_with_the_new_hint(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    resolver = Resolver(ws)
    output = resolver.resolve_output(f"{DEFAULT}/azureml/x", job_name="j1", output_name="o")
    with pytest.raises(SpecError) as caught:
        WriteGuard(ws, resolver.datastores).refuse(output, name="o", job_name="j1")
    assert caught.value.field == "outputs.o"
    assert "leave out path:" in (caught.value.hint or "") and "<something>" in (caught.value.hint or "")


def test_job_validate_says_it_in_an_empty_workspace(tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text("command: echo hi > ${{outputs.o}}/x\nenvironment:\n  image: runner/busybox:latest\n"
                   f"outputs:\n  o:\n    type: uri_folder\n    path: {DEFAULT}/azureml/my_shared_folder\n")
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(job))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("  hint: "), result.stderr
    assert "where runner keeps every job's default outputs" in lines[0], lines[0]
    assert "other jobs' outputs" not in result.stderr and "registered" not in lines[1], result.stderr
