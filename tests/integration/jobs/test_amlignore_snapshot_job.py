"""A real job (Docker) from a repository laid out for CI: ``code: .``, a workspace folder inside it
(``runner -w <repo>/ci-ws``, docs/guides/ci.md) and a ``.amlignore`` (or a ``.gitignore``) leaving out a
data folder. The container's working directory holds only what is not ignored: no data folder, no
workspace; ``job create`` says in one warning that it left the workspace out, and the job completes.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, job_log, show, write_job

pytestmark = pytest.mark.docker

JOB = """
    command: find . -type f | sort
    code: .
    environment:
      image: runner/busybox:latest
    """


@pytest.mark.parametrize("ignore_file", [".amlignore", ".gitignore"])
def test_the_container_sees_only_what_is_not_ignored(tmp_path: Path, ignore_file: str) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.py").write_text("print(1)\n")
    (repo / "big").mkdir()
    (repo / "big" / "blob.bin").write_bytes(b"x" * 4096)
    (repo / "notes.log").write_text("local notes\n")
    (repo / ignore_file).write_text("big/\n*.log\n")
    job = write_job(repo, JOB)
    ws = repo / "ci-ws"
    for name in ("amlig1", "amlig2"):  # the second finds the first one's folder in the workspace
        result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name, timeout=300)
        record = show(ws, name)
        assert record["status"] == "Completed", (record.get("error"), result.stderr[-3000:])
        assert "Traceback" not in result.stderr
        seen = [line.strip() for line in job_log(result.stdout).splitlines() if line.strip().startswith("./")]
        assert seen == [f"./{ignore_file}", "./job.yml", "./src/train.py"], result.stdout
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
        assert warnings == [f"warning: the code snapshot leaves out 'ci-ws', a runner workspace inside the "
                            f"code folder {repo}; move the workspace out of the code folder, or add 'ci-ws/' "
                            f"to its {ignore_file}"], result.stderr
