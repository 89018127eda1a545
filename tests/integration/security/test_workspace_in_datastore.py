"""A ``local`` datastore over $HOME holds the default workspace (~/.local/share/runner). A job whose output
is aimed through that datastore at the workspace's secrets, database or jobs/ (or at a folder holding the
workspace) is refused before it runs, by ``job validate`` and ``job create`` alike, with one error and a
hint; the secrets stay as they were (a ``datastore-<name>.json`` written there would redirect another
datastore's credentials).

Everything happens in this test's tmp folder: its "home", the workspace in it, the datastore over it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from jobs_support import cli, write_job

pytestmark = pytest.mark.docker

RUNNER = "azureml://datastores/home/paths/.local/share/runner"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class Home(NamedTuple):
    ws: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """One "home" with the workspace in it and a ``local`` datastore over it, shared by the refusals: none
    of them writes anything (each checks that), so one setup serves them all."""
    folder = tmp_path_factory.mktemp("refusals") / "home"
    folder.mkdir()
    ws = folder / ".local" / "share" / "runner"
    env = {"RUNNER_WORKSPACE": str(ws)}
    spec = write_job(folder.parent, f"name: home\ntype: local\npath: {folder}\n", name="home.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True, env=env)
    return Home(ws, env)


@pytest.mark.parametrize(("path", "kind", "mode"), [
    (f"{RUNNER}/secrets", "uri_folder", "upload"), (f"{RUNNER}/secrets", "uri_folder", "direct"),
    (f"{RUNNER}/runner.db", "uri_file", "upload"), (f"{RUNNER}/jobs", "uri_folder", "rw_mount"),
    ("azureml://datastores/home/paths/", "uri_folder", "rw_mount")])
def test_a_job_cannot_write_the_workspace_through_a_datastore_holding_it(
        home: Home, tmp_path: Path, path: str, kind: str, mode: str) -> None:
    ws = home.ws
    secrets = _tree(ws / "secrets")
    job = write_job(tmp_path, f"""
        command: echo planted > ${{{{outputs.o}}}}/planted.txt
        outputs:
          o: {{type: {kind}, mode: {mode}, path: "{path}"}}
        environment: {{image: runner/busybox:latest}}
        """, name="w.yml")
    for verb in (("validate",), ("create", "--stream", "--name", "plant")):
        result = cli(ws, "job", *verb, "--file", str(job), env=home.env)
        assert result.returncode == 2, result.stdout + result.stderr  # a spec error
        assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr, result.stderr
        assert "w.yml:3:" in result.stderr and "output 'o' cannot be written there" in result.stderr
        assert path in result.stderr and str(ws) in result.stderr
        assert "RUNNER_WORKSPACE" in result.stderr  # the hint
    assert not (ws / "jobs" / "plant").exists()  # nothing ran
    assert _tree(ws / "secrets") == secrets and not (ws / "secrets" / "planted.txt").exists()
    assert cli(ws, "datastore", "show", "--name", "home", env=home.env).returncode == 0  # the database works


def test_a_job_beside_the_workspace_in_that_datastore_still_runs(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    ws = home / ".local" / "share" / "runner"
    monkeypatch.setenv("RUNNER_WORKSPACE", str(ws))
    spec = write_job(tmp_path, f"name: home\ntype: local\npath: {home}\n", name="home.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    job = write_job(tmp_path, """
        command: echo made > ${{outputs.o}}/made.txt
        outputs:
          o: {type: uri_folder, mode: upload, path: "azureml://datastores/home/paths/projects/out"}
        environment: {image: runner/busybox:latest}
        """, name="ok.yml")
    cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "beside", check=True)
    assert (home / "projects" / "out" / "made.txt").read_text() == "made\n"
