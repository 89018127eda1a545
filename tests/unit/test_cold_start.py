"""The import diet of a cold start (issue 21, target 3), as module sets, never timings.

``runner job validate`` of a command job, from a fresh process without the fork server, imports no
storage code (fsspec, adlfs, the Azure SDK, ``mounts``), no pipeline models, no Ray compute models and no
job-recovery code (a pipeline job: no fsspec either); a read-only mount through the lean Azure client
never imports adlfs or the Azure SDK (``mounts.stores.deferred``) nor fsspec. Each command runs in a
child under ``python -X importtime``, whose report names every module the command imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import REPO

# what a cold `runner job validate` of a command job must not import (a module, or a package's modules)
NOT_FOR_VALIDATE = ("fsspec", "adlfs", "azure", "mounts", "docker", "rich", "mfusepy", "asyncio", "ssl",
                    "runner.spec.pipeline", "runner.pipelines", "runner.workspace.computes",
                    "runner.jobs.recovery", "runner.workspace.transfers",
                    "runner.backends.context_build", "runner.backends.dockerfile",
                    "runner.backends.dockerfile_words",  # an image build's
                    "runner.jobs.job", "runner.jobs.taken",  # the job entity; a registering output's check
                    # the asset stores (a registered version's: runner.workspace.asset_places is the write
                    # guard's) and the asset models
                    "runner.workspace.assets", "runner.workspace.models", "runner.workspace.data_assets",
                    "runner.spec.model", "runner.spec.data",
                    "runner.spec.asset", "runner.workspace.paging",  # job settings' (at first use); listings'
                    # the other command groups (runner.cli.main.LazyGroups)
                    "runner.cli.model", "runner.cli.data", "runner.cli.datastore", "runner.cli.environment",
                    "runner.cli.cache", "runner.cli.compute", "runner.cli.component",
                    # archives' error types (archive_members.read_errors), a job container's arguments
                    "tarfile", "runner.backends.base",
                    # pydantic's plugin search's (runner.cli._pydantic_plugins: run on first use), a link
                    # over the network's (runner.workspace.loopback), a container's (the backend's check
                    # needs none)
                    "importlib.metadata", "email", "socket", "runner.backends.docker_run",
                    "runner.backends.container_args", "runner.backends.conda_image")


def imported_modules(args: list[str], workspace: Path) -> set[str]:
    """The modules ``python -X importtime <args>`` imported (the command must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0",
           "RUNNER_WORKSPACE": str(workspace)}
    result = subprocess.run([sys.executable, "-P", "-X", "importtime", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("job", ["model-input-ro-mount.yml", "model-output-upload.yml",
                                 "model-output-to-datastore.yml"])
def test_validate_of_a_command_job_imports_no_storage_pipeline_or_recovery_code(job: str,
                                                                                tmp_path: Path) -> None:
    modules = imported_modules(["-m", "runner", "job", "validate", "--file", f"samples/jobs/{job}"], tmp_path)
    assert {"runner.cli.job", "runner.spec.job", "runner.jobs.submit"} <= modules  # it did validate here
    assert heavy(modules, NOT_FOR_VALIDATE) == []


def test_the_version_imports_no_pydantic(tmp_path: Path) -> None:
    """``runner --version`` names no command: no model, so no pydantic (nor its search for plugins)."""
    modules = imported_modules(["-m", "runner", "--version"], tmp_path)
    assert heavy(modules, ("pydantic", "rich")) == []


def test_validate_of_a_pipeline_loads_its_models_but_not_the_machinery_that_runs_it(tmp_path: Path) -> None:
    """A pipeline job gets its models (so the check above can see them), but not the orchestrator, the job
    lifecycle or any storage client; its local inputs and code are hashed for the reuse it predicts
    without fsspec (``runner.workspace.digests`` with ``fs=None``)."""
    modules = imported_modules(["-m", "runner", "job", "validate", "--file",
                                "samples/jobs/pipeline-train-score-register.yml"], tmp_path)
    assert {"runner.spec.pipeline", "runner.pipelines.submit"} <= modules
    running = ("fsspec", "adlfs", "azure", "mounts", "docker", "rich", "runner.jobs.recovery",
               "runner.jobs.run", "runner.pipelines.orchestrate", "runner.workspace.transfers",
               "tarfile", "runner.backends.base",
               # the orchestrator's start (subprocess: with signal, selectors) and the pipeline's record
               "subprocess", "signal", "runner.pipelines.record",
               # a registered version's check (its output names no version) and the asset stores and
               # models (a component's read-only fields are runner.spec.creation_context's)
               "runner.jobs.taken", "runner.workspace.assets", "runner.workspace.models",
               "runner.workspace.data_assets", "runner.workspace.paging", "runner.spec.asset",
               "runner.spec.model", "runner.spec.data")
    assert heavy(modules, running) == []


UNUSED_BY_PIPELINE = """
import json, sys
from runner.cli.main import run
status = run()
from runner.spec import bindings
from runner.workspace import components, computes
built = [m.__name__ for m in (components.ComponentRecord, computes.RayCompute) if m.__pydantic_complete__]
compiled = [f.__name__ for f in (components._short_re, components._registry_re, computes._name_re,
                                 bindings._old_form_re) if f.cache_info().currsize]
print(json.dumps([status, built, compiled]))
"""


def test_validate_of_a_pipeline_of_component_files_builds_no_registry_model_nor_its_patterns(
        tmp_path: Path) -> None:
    """Its components are files and its compute is not registered: the registered component's and the Ray
    compute's validators (``defer_build``), the component reference's patterns and the pattern of a command
    job's binding form (an error's) wait for their first use."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/pipeline-train-score-register.yml",
            "-o", "json"]
    result = subprocess.run([sys.executable, "-c", f"import sys\nsys.argv = {args!r}\n{UNUSED_BY_PIPELINE}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"train"' in result.stdout  # it did validate the pipeline (its steps' graph, as JSON)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, [], []]


LEAN_MOUNT = """
from mounts.ro_mount import RoMountStrategy
from mounts.stores.azure import AzureBlobStore
from mounts.stores.azure_account import account_from_options
from mounts.stores.deferred import DeferredAzureFileSystem
from mounts.stores.open import open_store

def make():
    raise AssertionError("adlfs was asked for")

conn = "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/acct;"
fs = DeferredAzureFileSystem(account_from_options({"connection_string": conn}), make)
assert isinstance(open_store(fs), AzureBlobStore) and fs.protocol[0] == "abfs"
"""


def test_a_lean_azure_mount_imports_neither_adlfs_nor_the_azure_sdk_nor_fsspec(tmp_path: Path) -> None:
    modules = imported_modules(["-c", LEAN_MOUNT], tmp_path)
    assert "mounts.ro_mount" in modules
    assert heavy(modules, ("adlfs", "azure", "fsspec")) == []


# pydantic models whose validators wait for their first use (``defer_build``): a validate uses none
# (of the datastores': the kinds but the default's, local, and the validator of any kind, datastore_adapter)
NOT_BUILT_BY_VALIDATE = ("JobRecord", "Job", "AssetBase", "Data", "Model",
                         "AzureDatastore", "FsspecDatastore", "AzureCredentials")
BUILT_MODELS = """
import json, sys
from pydantic import BaseModel
from runner.cli.main import run
import runner.jobs.job, runner.spec.data, runner.spec.model, runner.workspace.datastore_kinds  # (all defined)
status = run()
built, pending = [], [BaseModel]
while pending:
    model = pending.pop()
    pending.extend(model.__subclasses__())
    if model.__module__.startswith("runner.") and model.__pydantic_complete__:
        built.append(model.__name__)
built += ["datastore_adapter"] * runner.workspace.datastore_kinds.datastore_adapter.cache_info().currsize
print(json.dumps([status, built]))
"""


def test_validate_builds_the_validators_of_the_job_models_only(tmp_path: Path) -> None:
    """Building a pydantic model's validator costs ~1-5 ms; the job records' and assets' are built when
    first used (the fork server builds them all once: ``runner.cli.main.warm``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/model-input-ro-mount.yml", "-o", "json"]
    result = subprocess.run([sys.executable, "-c", f"import sys\nsys.argv = {args!r}\n{BUILT_MODELS}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    status, built = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 0 and "CommandJobSpec" in built and "LocalDatastore" in built  # it did validate
    assert sorted(set(built) & {*NOT_BUILT_BY_VALIDATE, "datastore_adapter"}) == []


PLUGIN_SEARCH = """
import importlib.metadata, json, sys
from runner.cli.main import run
status = run()
listed = importlib.metadata.FastPath.__new__.cache_info().currsize  # the paths it listed distributions of
from pydantic.plugin import _loader
print(json.dumps([status, listed, _loader._plugins]))
"""


def test_validate_finds_that_no_pydantic_plugin_is_installed_without_pydantics_search(tmp_path: Path) -> None:
    """pydantic's search for plugins (every distribution's entry points, ``importlib.metadata``) is
    answered by ``runner.cli._pydantic_plugins`` when no distribution can hold one, as here."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/model-input-ro-mount.yml", "-o", "json"]
    result = subprocess.run([sys.executable, "-c", f"import sys\nsys.argv = {args!r}\n{PLUGIN_SEARCH}"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, 0, {}]


# regexes compiled on first use (``runner.lazy_re.on_first_use``): a validate of a command job with no
# environment variables, no shm_size and no error compiles none of them (of the path forms: the datastore
# one for a datastore output, the registry environment one for its environment; of the secret masks: the
# key=value one, for a text holding '=')
LAZY_PATTERNS = {
    "runner.uris": ("_job_re", "_runs_re", "_reg_model_re", "_asset_id_re", "_short_re", "_scheme_re",
                    "_chained_re", "_host_link_re", "_at_form_re", "_host_form_re", "_path_style_re"),
    "runner.url_secrets": ("_query_re", "_password_re", "_pem_re", "jwt_re", "github_token_re",
                           "_secret_key_at_end_re", "_ipv6_double_colon_re"),
    "runner.spec.names": ("job_name_re", "asset_name_re", "asset_version_re", "step_name_re"),
    "runner.terminal_text": ("_other_re", "_bad_esc_re", "_may_conceal_re", "_sgr_start_re",
                             "_field_unsafe_re", "_c1_bytes_re"),
    "runner.spec.env_secret_rule": ("_words_re", "_values_re"),
    "runner.workspace.job_records": ("_plus_utc_text_re", "_surrogate_re"),
    "runner.file_urls": ("_file_url_re", "_no_name_holds_re"),
    "runner.plan.network": ("_loopback_re",),
    "runner.workspace.store_endpoints": ("_endpoint_re",),
    "runner.cli._usage": ("_no_such_command_re", "_extra_arguments_re"),
    "runner.spec.job": ("_shm_re",),
    "runner.spec.environment": ("_conda_dep_re",),
    "runner.workspace.datastores": ("_ds_name_re",),
    "runner.spec.docker_tokens": ("_number_re",),
    "runner.spec.image_ref": ("_env_name_re",),
}
COMPILED = """
import json, sys
from runner.cli.main import run
status = run()
compiled = [f"{module}.{name}" for module, names in LAZY for name in names
            if getattr(sys.modules[module], name).cache_info().currsize]
print(json.dumps([status, compiled]))
"""


TOKENIZED = """
import json, sys, tokenize
from runner.cli.main import run
status = run()
print(json.dumps([status, tokenize._compile.cache_info().currsize]))
"""


def test_validate_reads_no_builtins_signature_from_its_text(tmp_path: Path) -> None:
    """pydantic reads a ``default_factory``'s signature; a builtin's (``list``) is parsed from its text with
    ``tokenize``, whose patterns (~14 M instructions) a validate then compiles: its factories are Python's."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/model-input-ro-mount.yml", "-o", "json"]
    result = subprocess.run([sys.executable, "-c", f"import sys\nsys.argv = {args!r}\n{TOKENIZED}"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, 0]


def test_validate_compiles_none_of_the_regexes_it_does_not_use(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/model-input-ro-mount.yml", "-o", "json"]
    script = f"import sys\nsys.argv = {args!r}\nLAZY = {list(LAZY_PATTERNS.items())!r}\n{COMPILED}"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    status, compiled = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 0 and compiled == []


# the garbage collector during a cold command: off for the start-up, whose objects are frozen as the
# command starts (``runner.launch``, ``runner.cli.main._resuming_gc``); on again for the command
GC_STATE = """
import atexit, gc, json, sys
sys.argv = {args!r}
startup = []  # collections once the CLI is being imported, before anything was frozen: the start-up's
gc.callbacks.append(lambda phase, info: phase == "start" and "runner.cli" in sys.modules
                    and not gc.get_freeze_count() and startup.append(1))
atexit.register(lambda: print(json.dumps([gc.isenabled(), gc.get_freeze_count(), len(startup)])))
from runner.launch import main
main()
"""


def test_a_cold_command_collects_no_garbage_in_its_start_up_and_collects_again_once_it_runs(
        tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path)}
    args = ["runner", "job", "validate", "--file", "samples/jobs/model-input-ro-mount.yml", "-o", "json"]
    result = subprocess.run([sys.executable, "-c", GC_STATE.format(args=args)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    enabled, frozen, startup_collections = json.loads(result.stdout.strip().splitlines()[-1])
    assert enabled and startup_collections == 0
    assert frozen > 10_000  # the start-up's modules, classes and click tree
