"""An ``fsspec`` datastore whose URL names this machine (``file://``, ``local://``) is a local folder: an
output written there follows no link below its root, exactly as on a ``local`` datastore.

Every job runs in a container of this test's throwaway workspace. Its planted link points at a decoy
folder the test made in its own temporary folder, or at the workspace's own registered model (a copy the
test registered); both must stay byte-identical. No link is followed by the test itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, make_tree, sha256_tree, show, tree_without_links, write_job

pytestmark = pytest.mark.docker

FILES = {"MLmodel": b"flavors: {}\n", "weights/w.bin": b"\x00weights" * 1024}
REFUSED = "is a symbolic link (a job may have made it): not followed"


def _fsspec_datastore(ws: Path, folder: Path, url: str, name: str = "fsfile") -> None:
    spec = write_job(folder, f"""
        name: {name}
        type: fsspec
        url: {url}
        """, name=f"datastore-{name}.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)


def _registered_model(ws: Path, tmp_path: Path) -> Path:
    make_tree(tmp_path / "model", FILES)
    cli(ws, "model", "create", "--name", "local-m", "--version", "1", "--path", str(tmp_path / "model"),
        check=True)
    return datastore_file(ws, "LocalUpload/local-m/1/model")


@pytest.mark.parametrize("protocol", ["file", "local"])
@pytest.mark.parametrize("mode", ["upload", "rw_mount"])
@pytest.mark.parametrize("aim", ["decoy", "model"])
def test_an_output_on_an_fsspec_file_datastore_follows_no_planted_link(
        workspace_dir: Path, tmp_path: Path, mode: str, aim: str, protocol: str) -> None:
    """The job plants the link through a ``direct`` output on the default datastore; its other output
    goes below that link through an fsspec datastore over the same folder."""
    ws = workspace_dir
    registered = _registered_model(ws, tmp_path)
    decoy = tmp_path / "decoy"
    make_tree(decoy, {"keep.txt": b"decoy\n"})
    decoy_before, model_before = tree_without_links(decoy), tree_without_links(registered)
    _fsspec_datastore(ws, tmp_path, f"{protocol}://{datastore_file(ws, '')}".rstrip("/"))
    link = str(decoy) if aim == "decoy" else "../LocalUpload/local-m/1/model"
    job = write_job(tmp_path, f"""
        command: >-
          ln -s {link} ${{{{outputs.d}}}}/evil &&
          echo PWNED > ${{{{outputs.u}}}}/MLmodel
        outputs:
          d: {{type: uri_folder, path: azureml://datastores/workspaceblobstore/paths/scratch, mode: direct}}
          u: {{type: uri_folder, path: azureml://datastores/fsfile/paths/scratch/evil, mode: {mode}}}
        environment: {{image: runner/busybox:latest}}
        """)
    name = f"fsfile-{mode.replace('_', '-')}-{aim}-{protocol}"
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert tree_without_links(decoy) == decoy_before
    assert tree_without_links(registered) == model_before
    assert result.returncode == 1, result.stdout + result.stderr
    assert datastore_file(ws, "scratch/evil").is_symlink()  # the job's link is left as it made it
    record = show(ws, name)
    assert record["status"] == "Failed" and record["exit_code"] == 0
    assert f"{datastore_file(ws, 'scratch/evil')} {REFUSED}" in record["error"]
    staged = ws / "jobs" / name / "outputs" / "u" / ("staged" if mode == "rw_mount" else "")
    assert (staged / "MLmodel").read_text() == "PWNED\n"  # the staged data is kept


def test_a_direct_output_on_an_fsspec_file_datastore_is_its_folder(workspace_dir: Path,
                                                                   tmp_path: Path) -> None:
    """Bound like a local datastore's: what the job writes lands in the datastore's folder."""
    ws = workspace_dir
    store = tmp_path / "store"
    store.mkdir()
    _fsspec_datastore(ws, tmp_path, f"file://{store}")
    job = write_job(tmp_path, """
        command: echo hello > ${{outputs.o}}/greeting.txt
        outputs:
          o: {type: uri_folder, path: azureml://datastores/fsfile/paths/runs/one, mode: direct}
        environment: {image: runner/busybox:latest}
        """)
    cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "fsfile-direct", check=True)
    assert (store / "runs" / "one" / "greeting.txt").read_text() == "hello\n"


def test_a_direct_output_below_a_planted_link_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    """The folder of a ``direct`` output is made following no link below the datastore's root: a link on
    the way fails the job before it runs, and the decoy it points at is never bound."""
    ws = workspace_dir
    store, decoy = tmp_path / "store", tmp_path / "decoy"
    make_tree(decoy, {"keep.txt": b"decoy\n"})
    (store / "scratch").mkdir(parents=True)
    (store / "scratch" / "evil").symlink_to(decoy)  # what an earlier job could have left there
    _fsspec_datastore(ws, tmp_path, f"file://{store}")
    job = write_job(tmp_path, """
        command: echo PWNED > ${{outputs.d}}/keep.txt
        outputs:
          d: {type: uri_folder, path: azureml://datastores/fsfile/paths/scratch/evil/sub, mode: direct}
        environment: {image: runner/busybox:latest}
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "fsfile-direct-link")
    assert result.returncode != 0
    assert tree_without_links(decoy) == {"keep.txt": b"decoy\n"}
    assert f"{store / 'scratch' / 'evil'} {REFUSED}" in result.stdout + result.stderr + str(
        show(ws, "fsfile-direct-link").get("error"))


@pytest.mark.parametrize("mode", ["download", "ro_mount", "direct"])
def test_an_input_on_an_fsspec_file_datastore_is_read(workspace_dir: Path, tmp_path: Path, mode: str) -> None:
    """Inputs keep working: the job reads the datastore's folder (bound read-only, as a local one)."""
    ws = workspace_dir
    store = tmp_path / "store"
    before = make_tree(store / "data", {"a.txt": b"alpha\n", "sub/b.txt": b"beta\n"})
    _fsspec_datastore(ws, tmp_path, f"file://{store}")
    job = write_job(tmp_path, f"""
        command: cat ${{{{inputs.i}}}}/a.txt ${{{{inputs.i}}}}/sub/b.txt > ${{{{outputs.o}}}}/both.txt
        inputs:
          i: {{type: uri_folder, path: azureml://datastores/fsfile/paths/data, mode: {mode}}}
        outputs:
          o: {{type: uri_folder, mode: upload}}
        environment: {{image: runner/busybox:latest}}
        """)
    name = f"fsfile-in-{mode.replace('_', '-')}"
    cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name, check=True)
    out = show(ws, name)["outputs"]["o"]
    both = datastore_file(ws, out.split("/paths/", 1)[1].strip("/")) / "both.txt"
    assert both.read_text() == "alpha\nbeta\n"
    assert sha256_tree(store / "data") == before


@pytest.mark.parametrize("protocol", ["file", "local"])
def test_a_registered_model_is_guarded_through_an_fsspec_datastore_over_its_folder(
        workspace_dir: Path, tmp_path: Path, protocol: str) -> None:
    """The guard judges an fsspec datastore on this machine where its folder really is, whatever the
    URL's protocol: an output aimed at a registered model through it is refused before anything runs."""
    ws = workspace_dir
    registered = _registered_model(ws, tmp_path)
    before = tree_without_links(registered)
    _fsspec_datastore(ws, tmp_path, f"{protocol}://{datastore_file(ws, '')}".rstrip("/"))
    job = write_job(tmp_path, """
        command: echo pwned > ${{outputs.out}}/MLmodel
        outputs:
          out: {type: uri_folder, path: azureml://datastores/fsfile/paths/LocalUpload/local-m/1/model}
        environment: {image: runner/busybox:latest}
        """)
    for verb in ("validate", "create"):
        result = cli(ws, "job", verb, "--file", str(job))
        assert result.returncode == 2, result.stdout + result.stderr
        assert "cannot be written there" in result.stderr and "local-m:1" in result.stderr
    assert tree_without_links(registered) == before
