"""Registering a model or data asset from local files copies them into the datastore's upload folder
(``LocalUpload/``, ``DataUpload/``). A link there (``LocalUpload/<name> -> elsewhere``) once took the
copy, and the removal of a stale copy before it, wherever it pointed. Two defenses:

- no job output may be, hold or lie in an upload folder (the job is refused before it runs, so it cannot
  plant the link: here a real container job tries);
- registration follows no link below the datastore's root: a link left there anyway (planted by the test,
  as a job of an older runner could have) is refused with one error naming it, and nothing is deleted
  or written through it.

Everything happens in this test's throwaway workspace; every planted link points at a decoy folder the
test made in its own tmp folder, and the test never follows one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, make_tree, tree_without_links, write_job

NOT_FOLLOWED = "is a symbolic link (a job may have made it): not followed"
DS = "azureml://datastores/workspaceblobstore/paths"


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    make_tree(tmp_path / "decoy", {"1/keep.txt": b"keep\n", "keep.txt": b"keep\n"})
    return tmp_path / "decoy"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    make_tree(tmp_path / "src" / "model", {"MLmodel": b"flavors: {}\n", "w.bin": b"\x00w" * 512})
    return tmp_path / "src" / "model"


@pytest.mark.docker
@pytest.mark.parametrize("path", ["LocalUpload/newname", "LocalUpload", "DataUpload/newdata"])
def test_a_job_cannot_plant_a_link_in_an_upload_folder(workspace_dir: Path, tmp_path: Path, decoy: Path,
                                                       model: Path, path: str) -> None:
    ws = workspace_dir
    before = tree_without_links(decoy)
    job = write_job(tmp_path, f"""
        command: ln -s {decoy} ${{{{outputs.d}}}}/1 && ln -s {decoy} ${{{{outputs.d}}}}/newname
        outputs:
          d: {{type: uri_folder, path: {DS}/{path}, mode: direct}}
        environment: {{image: runner/busybox:latest}}
        """)
    for verb in (("validate",), ("create", "--stream", "--name", "plant")):
        result = cli(ws, "job", *verb, "--file", str(job))
        assert result.returncode == 2, result.stdout + result.stderr  # a spec error
        assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
        assert "output 'd' cannot be written there" in result.stderr
        assert f"{path.split('/')[0]}/ on datastore 'workspaceblobstore'" in result.stderr
        assert "write the output somewhere else" in result.stderr  # the hint
    assert not (ws / "jobs" / "plant").exists()  # nothing ran
    assert tree_without_links(datastore_file(ws, "")) == {}  # no link, no folder made
    cli(ws, "model", "create", "--name", "newname", "--version", "1", "--path", str(model), check=True)
    assert tree_without_links(decoy) == before
    assert (datastore_file(ws, "LocalUpload/newname/1/model/MLmodel")).read_bytes() == b"flavors: {}\n"


@pytest.mark.docker
def test_a_job_cannot_write_over_another_datastores_upload_folders(workspace_dir: Path, tmp_path: Path,
                                                                   decoy: Path) -> None:
    ws = workspace_dir
    (tmp_path / "side").mkdir()
    spec = write_job(tmp_path, f"name: side\ntype: local\npath: {tmp_path / 'side'}\n", name="side.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    job = write_job(tmp_path, f"""
        command: ln -s {decoy} ${{{{outputs.d}}}}/DataUpload
        outputs:
          d: {{type: uri_folder, path: "azureml://datastores/side/paths/", mode: direct}}
        environment: {{image: runner/busybox:latest}}
        """)
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "side-root")
    assert result.returncode == 2 and "holds LocalUpload/ on datastore 'side'" in result.stderr, result.stderr
    assert list((tmp_path / "side").iterdir()) == []


@pytest.mark.parametrize("where", ["LocalUpload/newname", "LocalUpload/newname/1", "LocalUpload"])
def test_model_create_refuses_a_planted_link_and_deletes_nothing(workspace_dir: Path, decoy: Path,
                                                                 model: Path, where: str) -> None:
    ws = workspace_dir
    link = datastore_file(ws, where)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(decoy)
    before = tree_without_links(decoy)
    result = cli(ws, "model", "create", "--name", "newname", "--version", "1", "--path", str(model))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert f"{link} {NOT_FOLLOWED}" in result.stderr and "model 'newname'" in result.stderr
    assert "remove the link" in result.stderr  # the hint
    assert tree_without_links(decoy) == before
    assert link.is_symlink()
    staged = [p.name for p in datastore_file(ws, "LocalUpload").iterdir() if p.name.startswith(".")] \
        if not datastore_file(ws, "LocalUpload").is_symlink() else []
    assert staged == []
    assert cli(ws, "model", "list", "-o", "json", check=True).stdout.strip() == "[]"


def test_data_create_refuses_a_planted_link_and_deletes_nothing(workspace_dir: Path, tmp_path: Path,
                                                                decoy: Path) -> None:
    ws = workspace_dir
    link = datastore_file(ws, "DataUpload/newdata")
    link.parent.mkdir(parents=True)
    link.symlink_to(decoy)
    make_tree(tmp_path / "data", {"a.csv": b"a\n1\n"})
    before = tree_without_links(decoy)
    result = cli(ws, "data", "create", "--name", "newdata", "--version", "1", "--type", "uri_folder",
                 "--path", str(tmp_path / "data"))
    assert result.returncode == 1 and f"{link} {NOT_FOLLOWED}" in result.stderr, result.stderr
    assert tree_without_links(decoy) == before
    assert [p.name for p in datastore_file(ws, "DataUpload").iterdir()] == ["newdata"]
