"""`runner job create --stream` in real containers: status, exit codes, logs, artifacts, env vars,
the shell, images (missing, built from a context), resources, show/list/download."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import docker
import pytest
from jobs_support import (
    assert_no_leftovers,
    cli,
    datastore_file,
    sha256_file,
    show,
    write_job,
)

pytestmark = pytest.mark.docker


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    return workspace_dir


def test_completed_job_records_everything(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    src = tmp_path / "job" / "src"
    src.mkdir(parents=True)
    (src / "main.py").write_text("import os\nprint('hello from code', os.getcwd())\n"
                                 "open('outputs/result.txt', 'w').write('forty-two')\n"
                                 "open('logs/extra.log', 'w').write('log line')\n")
    job = write_job(tmp_path / "job", """
        command: python main.py
        code: src
        environment:
          image: runner/python:3.11
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "ok1")
    assert result.returncode == 0, result.stderr
    assert "hello from code /mnt/runner/code" in result.stdout
    assert "Status: Completed" in result.stdout  # after the log, as az ml job create --stream
    record = show(ws, "ok1")
    assert record["status"] == "Completed" and record["exit_code"] == 0 and record["error"] is None
    assert record["image"] == "runner/python:3.11" and record["image_id"].startswith("sha256:")
    assert list(record["extra"]["status_times"]) == ["Queued", "Preparing", "Running", "Finalizing",
                                                     "Completed"]
    assert record["started_at"] and record["ended_at"]
    artifacts = datastore_file(ws, "ExperimentRun/dcid.ok1")
    assert (artifacts / "outputs" / "result.txt").read_text() == "forty-two"
    assert (artifacts / "logs" / "extra.log").read_text() == "log line"
    assert "hello from code" in (artifacts / "user_logs" / "std_log.txt").read_text()
    assert "hello from code" in (ws / "jobs" / "ok1" / "user_logs" / "std_log.txt").read_text()
    assert_no_leftovers(docker_client, ws, "ok1")

    listed = json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout)
    assert [j["name"] for j in listed] == ["ok1"]
    out = tmp_path / "download"
    cli(ws, "job", "download", "--name", "ok1", "--all", "--download-path", str(out), check=True)
    assert (out / "artifacts" / "outputs" / "result.txt").read_text() == "forty-two"
    streamed = cli(ws, "job", "stream", "--name", "ok1")
    assert streamed.returncode == 0 and "hello from code" in streamed.stdout


def test_failing_command_exit_code(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: echo about to fail; exit 7
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "bad1")
    assert result.returncode == 1
    assert "about to fail" in result.stdout
    record = show(ws, "bad1")
    assert record["status"] == "Failed" and record["exit_code"] == 7
    assert "exited with code 7" in record["error"]
    assert record["outputs_partial"] is False  # no named output holds data (issue 20: was True)
    assert_no_leftovers(docker_client, ws, "bad1")


def test_env_vars_and_shell(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("x")
    job = write_job(tmp_path, """
        command: >-
          echo "greeting=$GREETING input=$AZURE_ML_INPUT_d output=$AZURE_ML_OUTPUT_o
          tracking=$MLFLOW_TRACKING_URI run=$MLFLOW_RUN_ID bash=${BASH_VERSION:+yes} n=$AZURE_ML_INPUT_n"
        inputs:
          d:
            type: uri_file
            path: data.txt
          n: 3
        outputs:
          o:
            mode: upload
        environment_variables:
          GREETING: hello world
        environment:
          image: runner/python:3.11
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "env1")
    assert result.returncode == 0, result.stderr
    assert ("greeting=hello world input=/mnt/runner/inputs/d/data.txt output=/mnt/runner/outputs/o "
            "tracking=file:///mnt/runner/mlruns run=env1 bash=yes n=3") in result.stdout

    busybox = write_job(tmp_path, """
        command: echo "bash=${BASH_VERSION:-none}"
        environment:
          image: runner/busybox:latest
        """, name="busybox.yml")
    result = cli(ws, "job", "create", "--file", str(busybox), "--stream", "--name", "sh1")
    assert result.returncode == 0, result.stderr
    assert "bash=none" in result.stdout  # busybox has no bash: the command ran under sh -c


def test_missing_image_is_a_clear_error(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: echo hi
        environment:
          image: runner/does-not-exist:1
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "noimg")
    assert result.returncode == 4  # the job could not be started (not a failed command: 1)
    assert show(ws, "noimg")["extra"]["not_started"] is True
    assert "image 'runner/does-not-exist:1' is not available locally" in result.stdout  # (the summary)
    assert "Traceback" not in result.stderr
    record = show(ws, "noimg")
    assert record["status"] == "Failed" and "not available locally" in record["error"]


def test_missing_input_path_is_one_error_with_file_line_and_field(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: ls ${{inputs.x}}
        inputs:
          x:
            type: uri_folder
            path: ./does-not-exist
        environment:
          image: runner/busybox:latest
        """)
    for verb in (("job", "create", "--stream"), ("job", "create"), ("job", "validate")):
        result = cli(ws, *verb, "--file", str(job), "--name", "nopath")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        first, hint = result.stderr.strip().splitlines()
        assert first == (f"error: {job}:5:5: inputs.x.path: '{tmp_path}/does-not-exist' does not exist; "
                         "a path that is read must name an existing file or folder")
        assert hint.startswith("  hint: check the path (relative local paths are relative to the job YAML")
    assert cli(ws, "job", "show", "--name", "nopath").returncode != 0  # nothing was queued


def test_environment_built_from_context_once(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    # the base is a tag of this test alone, moved to other content after the first build: a second
    # build would copy "second"
    base = f"runner-test/base:{os.getpid()}"
    bases = {}
    for word in ("first", "second"):
        (tmp_path / word).mkdir()
        (tmp_path / word / "Dockerfile").write_text(f"FROM runner/busybox:latest\nRUN echo {word} > /m\n")
        bases[word], _ = docker_client.images.build(path=str(tmp_path / word), network_mode="none", rm=True)
    bases["first"].tag(base)
    context = tmp_path / "env"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nRUN cat /m > /built.txt\n")
    job = write_job(tmp_path, """
        command: cat /built.txt
        environment:
          build:
            path: env
        """)
    first = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "build1")
    assert first.returncode == 0, first.stderr
    assert "first" in first.stdout
    bases["second"].tag(base)
    try:
        second = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "build2")
    finally:
        docker_client.images.remove(base)
    assert second.returncode == 0, second.stderr
    assert "first" in second.stdout  # the image built for this context was reused, not built again
    assert show(ws, "build1")["image_id"] == show(ws, "build2")["image_id"]
    for image in (show(ws, "build1")["image"], bases["first"].id, bases["second"].id):
        with contextlib.suppress(docker.errors.ImageNotFound):  # (a removed child takes its parents)
            docker_client.images.remove(image)


def test_resources_shm_and_docker_args(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: df -k /dev/shm | tail -1; ulimit -n
        resources:
          shm_size: 256m
          docker_args: --ulimit nofile=4096:4096
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "res1")
    assert result.returncode == 0, result.stderr
    assert "262144" in result.stdout  # 256 MiB of /dev/shm, in KiB
    assert "4096" in result.stdout

    refused = write_job(tmp_path, """
        command: echo hi
        resources:
          docker_args: --privileged
        environment:
          image: runner/busybox:latest
        """, name="refused.yml")
    result = cli(ws, "job", "create", "--file", str(refused), "--stream", "--name", "res2")
    assert result.returncode == 2  # a spec error, refused before the job is queued
    assert f"{refused}:3:3: resources.docker_args: docker_args option '--privileged' could weaken the " \
           "container's isolation" in result.stderr
    assert "--allow-unsafe-docker-args" in result.stderr and "Traceback" not in result.stderr
    assert "res2" not in cli(ws, "job", "list", check=True).stdout
    # asked for explicitly: it runs, and the record says the job's inputs were not protected
    # (--privileged itself cannot start in this sandbox: the host's IPC namespace can)
    host_ipc = write_job(tmp_path, """
        command: echo hi
        resources:
          docker_args: --ipc=host
        environment:
          image: runner/busybox:latest
        """, name="host-ipc.yml")
    assert cli(ws, "job", "create", "--file", str(host_ipc), "--stream", "--name", "res3").returncode == 2
    allowed = cli(ws, "job", "create", "--file", str(host_ipc), "--stream", "--name", "res4",
                  "--allow-unsafe-docker-args", "-o", "json")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["extra"]["unsafe_docker_args"] == ["--ipc=host"]


def test_code_is_snapshotted(ws: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.bin").write_bytes(bytes(range(256)) * 100)
    job = write_job(tmp_path, """
        command: sha256sum data.bin
        code: src
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "code1")
    assert result.returncode == 0, result.stderr
    assert sha256_file(src / "data.bin") in result.stdout
    assert sha256_file(ws / "jobs" / "code1" / "code" / "data.bin") == sha256_file(src / "data.bin")


def test_azureml_environment_references_map_to_local_images(ws: Path, tmp_path: Path) -> None:
    cli(ws, "environment", "create", "--name", "tiny", "--image", "runner/busybox:latest", check=True)
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\nRUN echo from-context > /ctx.txt\n")
    cli(ws, "environment", "create", "--name", "built", "--build-context", str(context), check=True)
    for name, ref, expected in (
            ("envref1", "azureml:tiny@latest", "tiny-ok"),
            ("envref2", "azureml://registries/azureml/environments/tiny/labels/latest", "tiny-ok"),
            ("envref3", "azureml:built:1", "from-context")):
        job = write_job(tmp_path, f"""
            command: cat /ctx.txt 2>/dev/null || echo tiny-ok
            environment: {ref}
            """, name=f"{name}.yml")
        result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert expected in result.stdout, name
    unmapped = write_job(tmp_path, """
        command: echo hi
        environment: azureml:nothing-mapped@latest
        """, name="unmapped.yml")
    result = cli(ws, "job", "create", "--file", str(unmapped), "--stream")
    assert result.returncode != 0
    assert "runner environment create --name nothing-mapped" in result.stderr


def test_dry_run_prints_the_plan_and_runs_nothing(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    job = write_job(tmp_path, """
        command: ls ${{inputs.d}}
        inputs:
          d:
            path: d
            mode: download
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--dry-run", "--name", "dry1", "-o", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["command"] == "ls /mnt/runner/inputs/d" and plan["inputs"][0]["mode"] == "download"
    assert "dry1" not in cli(ws, "job", "list", check=True).stdout


def test_stream_with_json_output_keeps_stdout_one_json_document(ws: Path, tmp_path: Path) -> None:
    """`job create --stream -o json`: the log goes to stderr, stdout is exactly the job record."""
    job = write_job(tmp_path, """
        command: echo line-one; echo line-two
        environment:
          image: runner/busybox:latest
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "-o", "json", "--name", "js1")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["name"] == "js1" and record["status"] == "Completed"
    assert "line-one\nline-two" not in result.stdout  # (the command text is in the record's spec)
    assert "line-one\nline-two" in result.stderr and "Status: Completed" in result.stderr

    plain = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "js2")
    assert plain.returncode == 0 and "line-one\nline-two" in plain.stdout

    # every command takes the same formats: -o yaml is the record as YAML, the log on stderr
    as_yaml = cli(ws, "job", "create", "--file", str(job), "--stream", "-o", "yaml", "--name", "js3")
    assert as_yaml.returncode == 0 and "name: js3\n" in as_yaml.stdout, as_yaml.stderr
    assert "line-one\nline-two" in as_yaml.stderr and "Status: Completed" in as_yaml.stderr
    status = cli(ws, "job", "create", "--file", str(job), "--stream", "-o", "tsv", "--query", "status",
                 "--name", "js4")
    assert status.returncode == 0 and status.stdout == "Completed\n", status.stderr

    # the reads take yaml too, and refuse a format they do not know instead of printing a table
    shown = cli(ws, "job", "show", "--name", "js1", "-o", "yaml", check=True).stdout
    assert "name: js1\n" in shown and "status: Completed\n" in shown
    assert "- " in cli(ws, "job", "list", "-o", "yaml", check=True).stdout
    for verb in (["show", "--name", "js1"], ["list"]):
        wrong = cli(ws, "job", *verb, "-o", "jsn")
        assert wrong.returncode == 2 and "'jsn'" in wrong.stderr and "'tsv'" in wrong.stderr, verb
