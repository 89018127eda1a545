"""The run plan: everything the executor needs, computed with no I/O, printable and comparable.

``runner.plan.build.build_plan`` produces it from a checked spec and resolved inputs/outputs; the run
(``runner.jobs.run``) materializes each ``Binding`` with the strategy for its mode, then hands the plan
to a backend. Container paths follow ``/mnt/runner/{inputs,outputs,artifacts,mlruns,code}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.spec.environment import CondaSpec

CONTAINER_ROOT = "/mnt/runner"
CONTAINER_WORKDIR = f"{CONTAINER_ROOT}/code"
CONTAINER_ARTIFACTS = f"{CONTAINER_ROOT}/artifacts"  # the job's default artifact location (MLflow's)
CONTAINER_MLRUNS = f"{CONTAINER_ROOT}/mlruns"  # the job's MLflow file store


AssetKind = Literal["model", "data"]


@dataclass(frozen=True)
class AssetRef:
    """A registered version: the one an input read (lineage), or what a named output becomes when its job
    completes (a model version for model types; a data asset version for ``uri_file``, ``uri_folder``,
    ``mltable``, as Azure ML registers them)."""

    kind: AssetKind
    name: str
    version: str | None = None  # None: the next version (a registration)

    @property
    def noun(self) -> str:
        return "data asset" if self.kind == "data" else "model"

    def __str__(self) -> str:
        ref = f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}"
        return f"{self.noun} {ref}"


@dataclass(frozen=True)
class Binding:
    """One asset input or output and how it reaches the job."""

    name: str
    direction: Direction
    type: AssetType
    mode: Mode
    uri: str  # the resolved, canonical location (azureml://datastores/<ds>/paths/<p>, abfs://..)
    kind: PathKind  # file or folder, known after resolution
    host_path: str  # where materialization puts it on the host (under the job directory)
    container_path: str  # where it appears in the container (/mnt/runner/inputs/<name>)
    value: str  # what ${{inputs.<name>}} renders to inside the container
    host_value: str  # what it renders to for the process backend (host paths)
    registered_as: AssetRef | None = None  # an output with name (and version) set: registered as that
    # a model input's content identity (``model:<name>:<version>``: a version never changes), kept so
    # the run finds it in the download cache; other paths get theirs (etag) when resolved at run time
    cache_key: str | None = None
    asset: AssetRef | None = None  # the registered version an input reads (lineage)

    @property
    def key(self) -> str:
        """``inputs/<name>`` or ``outputs/<name>``: an input and an output may share a name, as in Azure."""
        return f"{self.direction.value}s/{self.name}"


@dataclass(frozen=True)
class Resources:
    instance_count: int = 1
    shm_size: str | None = None
    docker_args: tuple[str, ...] = ()
    gpu_count: int = 0  # -1 means "all"
    # docker_args may weaken isolation (--cap-add, --privileged ...): only when the job was created
    # with --allow-unsafe-docker-args (runner.backends.docker_args)
    unsafe_docker_args: bool = False
    gpu_ids: tuple[str, ...] = ()  # the GPUs a Ray node assigned the job (CUDA_VISIBLE_DEVICES): these


@dataclass(frozen=True)
class RunPlan:
    job_name: str
    image: str  # a local image name, or "" when the environment still has to be built
    build_context: str | None  # environment.build.path resolved on the host, if any
    dockerfile: str | None
    command: str  # rendered for the container
    host_command: str  # rendered with host paths (process backend)
    # environment_variables + AZURE_ML_INPUT_/OUTPUT_ vars; a secret as *** (secret_env: env_secrets)
    env: dict[str, str]
    code_dir: str | None  # host path of the job's copy of `code`
    working_dir: str  # container working directory
    inputs: tuple[Binding, ...]
    outputs: tuple[Binding, ...]
    literals: dict[str, str]  # literal inputs as Azure renders them (Python str())
    timeout_s: float | None
    resources: Resources = field(default_factory=Resources)
    ignored_fields: tuple[str, ...] = ()  # fields accepted but meaningless on one machine
    warnings: tuple[str, ...] = ()
    code_source: str | None = None  # host path of the spec's `code` (copied into code_dir), if any
    host_env: dict[str, str] = field(default_factory=dict)  # env with host paths (process backend)
    conda: CondaSpec | None = None  # build the image: these packages on conda.base_image (image is "")
    # the environment_variables whose values are secrets: *** in env/host_env, the real values kept in the
    # workspace's secrets folder until the run puts them back (runner.plan.env_secrets.with_secret_env)
    secret_env: tuple[str, ...] = ()
    # the ``host:port`` of the stores the direct bindings reach, from their datastores' records (no secret):
    # with the bindings' URLs, the network the job gets (``runner.plan.network``)
    store_endpoints: tuple[str, ...] = ()

    @property
    def bindings(self) -> tuple[Binding, ...]:
        return self.inputs + self.outputs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
