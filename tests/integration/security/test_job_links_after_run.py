"""A hostile container plants links in every folder it could write; after it ends the runner collects its
artifacts, closes its MLflow run and downloads its outputs without following one of them.

Everything happens in this test's throwaway workspace; every link names a decoy this test made in
``tmp_path``, and the decoys are byte-identical afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, show, tree_without_links, write_job

pytestmark = pytest.mark.docker

DECOY_FILES = {"secret.txt": "DECOY SECRET\n", "meta.yaml": "status: 1\nend_time: null\n",
               "nested/key.txt": "DECOY KEY\n"}




def test_links_a_job_planted_are_never_followed_after_it_ran(workspace_dir: Path, tmp_path: Path,
                                                             docker_client: Any) -> None:
    ws = workspace_dir
    decoy = tmp_path / "decoy"
    for rel, text in DECOY_FILES.items():
        (decoy / rel).parent.mkdir(parents=True, exist_ok=True)
        (decoy / rel).write_text(text)
    before = tree_without_links(decoy)
    run = "/mnt/runner/mlruns/0/$MLFLOW_RUN_ID"
    model = "/mnt/runner/mlruns/0/models/m1"
    job = write_job(tmp_path, f"""
        command: >-
          echo from-the-job > outputs/secret.txt &&
          ln -s {decoy} /mnt/runner/artifacts/outputs &&
          ln -s {decoy}/secret.txt /mnt/runner/artifacts/leak.txt &&
          rm -rf logs && ln -s {decoy} logs &&
          rm {run}/meta.yaml && ln -s {decoy}/meta.yaml {run}/meta.yaml &&
          mkdir -p {model} &&
          printf 'name: leak\\nsource_run_id: %s\\n' $MLFLOW_RUN_ID > {model}/meta.yaml &&
          ln -s {decoy} {model}/artifacts &&
          echo fine > ${{{{outputs.d}}}}/fine.txt &&
          ln -s {decoy}/secret.txt ${{{{outputs.d}}}}/report.txt
        outputs:
          d:
            mode: direct
        environment:
          image: runner/busybox:latest
        """, name="links.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "links1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert tree_without_links(decoy) == before

    artifacts = datastore_file(ws, "ExperimentRun/dcid.links1")
    assert not (artifacts / "outputs").is_symlink()
    assert tree_without_links(artifacts / "outputs") == {"secret.txt": b"from-the-job\n"}
    assert not (artifacts / "leak").exists() and not (artifacts / "logs").exists()
    meta = ws / "jobs" / "links1" / "mlruns" / "0" / "links1" / "meta.yaml"
    assert not meta.is_symlink() and "status: 3" in meta.read_text()

    job_dir = ws / "jobs" / "links1"
    noted = show(ws, "links1")["extra"]["links_not_followed"]
    model_artifacts = job_dir / "mlruns" / "0" / "models" / "m1" / "artifacts"
    staged = job_dir / "outputs" / "artifacts"  # a container writes its artifacts there, moved in after
    assert sorted(noted) == sorted([f"{staged / 'outputs'} -> {decoy} (replaced by a folder)",
                                    f"{job_dir / 'code' / 'logs'} -> {decoy} (skipped)",
                                    f"{meta} -> {decoy / 'meta.yaml'} (replaced)",
                                    f"{model_artifacts} -> {decoy} (skipped)"])
    for link in noted:  # one warning each
        assert result.stderr.count(link.split(" -> ")[0] + " ") == 1, link
    shown = cli(ws, "job", "show", "--name", "links1", check=True).stdout
    assert shown.count("link_not_followed") == len(noted)

    downloaded = tmp_path / "dl"
    got = cli(ws, "job", "download", "--name", "links1", "--all", "--download-path", str(downloaded))
    assert got.returncode == 0, got.stdout + got.stderr
    assert tree_without_links(downloaded / "named-outputs" / "d") == {"fine.txt": b"fine\n"}
    # not moved into the artifacts: named once, in the one warning of what their staging left out
    assert result.stderr.count(f"leak.txt (a link to {decoy / 'secret.txt'}, out of the output)") == 1
    assert "report.txt" in got.stderr and "Traceback" not in got.stderr
    got_files = tree_without_links(downloaded).values()
    assert not any(b"DECOY" in data for data in got_files if isinstance(data, bytes))
    assert tree_without_links(decoy) == before
