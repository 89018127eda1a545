"""Environments built for a job (real Docker): a conda file's packages on its base image (one already in
the image, one tiny package from the package index), built once per content and reused; an Azure
environment YAML through ``environment: file:``; a base image that is not local is a clear error.

The package index is this module's own (hermetic: nothing comes from PyPI): a tiny pure-Python wheel made
here, served over HTTPS on 127.0.0.1 with a certificate made here, named to the job by the host's
``PIP_INDEX_URL`` and trusted through ``PIP_CERT``, as a build behind a private index and proxy CA is."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import ssl
import subprocess
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, show, write_job

from runner.backends.conda_image import TAG_PREFIX, content_hash
from runner.spec.environment import conda_spec
from runner.spec.yamlio import load_yaml

pytestmark = pytest.mark.docker


TINY = "runner-tiny-probe"  # in no image and on no public index: only in this module's own index


def _wheel(folder: Path) -> Path:
    """A pure-Python wheel of ``runner_tiny_probe`` 1.0.0 (one module), with its RECORD."""
    files = {"runner_tiny_probe.py": b"VERSION = '1.0.0'\n",
             "runner_tiny_probe-1.0.0.dist-info/METADATA":
                 b"Metadata-Version: 2.1\nName: runner-tiny-probe\nVersion: 1.0.0\n",
             "runner_tiny_probe-1.0.0.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: runner-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    digests = {name: base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
               for name, data in files.items()}
    record = "".join(f"{name},sha256={digests[name]},{len(data)}\n" for name, data in files.items())
    files["runner_tiny_probe-1.0.0.dist-info/RECORD"] = \
        f"{record}runner_tiny_probe-1.0.0.dist-info/RECORD,,\n".encode()
    wheel = folder / "runner_tiny_probe-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PEP 503 index of the tiny wheel over HTTPS on loopback; the job's environment to use it."""
    root = tmp_path_factory.mktemp("index")
    project = root / "simple" / TINY
    project.mkdir(parents=True)
    wheel = _wheel(project)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (project / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root)))
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/simple/"
        yield {"PIP_INDEX_URL": url, "PIP_CERT": str(cert)}
    finally:
        server.shutdown()
        server.server_close()


CONDA = f"""
    name: tiny
    dependencies:
      - python=3.11
      - pyyaml=6.0
      - pip:
        - {TINY}==1.0.0
    """
PROBE = ("python -c \"import runner_tiny_probe as t, yaml; "
         "print('tiny', t.VERSION, 'yaml', yaml.__version__)\"")


def _conda_tag(docker_client: Any, conda: Path) -> str:
    spec = conda_spec(load_yaml(conda).data, base_image="runner/python:3.11", source=str(conda))
    return TAG_PREFIX + content_hash(spec, docker_client.images.get("runner/python:3.11").id)[:16] + ":latest"


def _run(ws: Path, job: Path, name: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    result = cli(ws, "job", "create", "--file", str(job), "--name", name, "--stream", timeout=280, env=env)
    record = show(ws, name)
    assert result.returncode == 0 and record["status"] == "Completed", f"{result.stdout}\n{result.stderr}"
    return record, result.stdout


def test_conda_file_builds_once_and_is_reused(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                              index: dict[str, str]) -> None:
    # the tiny package is not in the base image (it comes from the package index); pyyaml is in the image
    # already (pip finds it satisfied)
    conda = write_job(tmp_path, CONDA, name="conda.yml")
    tag = _conda_tag(docker_client, conda)
    with contextlib.suppress(Exception):  # built by an earlier run: this one builds it again
        docker_client.images.remove(tag, force=True)
    job = write_job(tmp_path, f"""
        command: >-
          {PROBE}
        environment:
          image: runner/python:3.11
          conda_file: conda.yml
        """)
    first, out = _run(workspace_dir, job, "conda-1", index)
    assert out.splitlines()[0] == "tiny 1.0.0 yaml 6.0.2"
    second, out = _run(workspace_dir, job, "conda-2", index)
    assert out.splitlines()[0] == "tiny 1.0.0 yaml 6.0.2"
    assert first["image_id"] == second["image_id"]  # the same content: the same image, not rebuilt
    assert docker_client.images.get(tag).id == first["image_id"]


def test_an_environment_yaml_through_file(workspace_dir: Path, tmp_path: Path) -> None:
    context = tmp_path / "environments" / "marked"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\nRUN echo from-env-yaml > /marker\n")
    (context / "env.yml").write_text(textwrap.dedent("""\
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: marked
        version: 1
        build:
          path: .
        """))
    job = write_job(tmp_path, "command: cat /marker\nenvironment: file:./environments/marked/env.yml\n")
    _record, out = _run(workspace_dir, job, "env-file")
    assert out.splitlines()[0] == "from-env-yaml"  # the job's log, then the summary (stdout, as az ml)


def test_a_base_image_that_is_not_local_is_not_pulled(workspace_dir: Path, tmp_path: Path) -> None:
    write_job(tmp_path, "dependencies:\n  - python=3.8\n", name="conda.yml")
    job = write_job(tmp_path, """
        command: python -V
        environment:
          image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04
          conda_file: conda.yml
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "no-base", "--stream")
    assert result.returncode == 4  # the job could not be started
    error = show(workspace_dir, "no-base")["error"]
    assert "image 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04' is not available locally " \
           "(pulling is disabled)" in error


def test_a_registered_conda_environment(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                        index: dict[str, str]) -> None:
    # the same conda file as the inline form's above: the registered environment gets the very image that
    # form builds (already built when this module runs in order; built here from the index otherwise)
    env_dir = tmp_path / "env"
    conda = write_job(env_dir, CONDA, name="conda.yml")
    tag = _conda_tag(docker_client, conda)
    env_file = write_job(env_dir, """
        name: condaenv
        image: runner/python:3.11
        conda_file: conda.yml
        tags: {team: vision}
        """, name="env.yml")
    cli(workspace_dir, "environment", "create", "--file", str(env_file), check=True)
    conda.unlink()  # registered: a snapshot of the file, which may go away
    job = write_job(tmp_path / "job", f"""
        command: >-
          {PROBE}
        environment: azureml:condaenv@latest
        """)
    record, out = _run(workspace_dir, job, "registered-conda", index)
    assert out.splitlines()[0] == "tiny 1.0.0 yaml 6.0.2"
    assert record["image_id"] == docker_client.images.get(tag).id
