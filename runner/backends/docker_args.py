"""``resources.docker_args`` parsed into docker-py ``containers.create`` keyword arguments.

Only options that cannot weaken the container's isolation are accepted (limits, environment, user,
GPUs, tmpfs, dropping capabilities). Options that can (``--privileged``, ``--cap-add``,
``--security-opt``, ``--device``, the host's IPC, PID, UTS or user namespace) would let a job undo its
read-only binds (``mount -o remount,rw`` with ``CAP_SYS_ADMIN``) and write into a registered model or
the cache: they are refused unless the job is created with ``--allow-unsafe-docker-args`` (or
``RUNNER_ALLOW_UNSAFE_DOCKER_ARGS=1``), which the job record then shows. Networks and extra mounts are
never accepted: runner chooses the network and binds exactly what the job was given. Pure: no daemon.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from runner.errors import ContainerError, SpecError
from runner.plan.env_secrets import without_secret_values
from runner.plan.types import CONTAINER_ROOT, RunPlan
from runner.spec.docker_tokens import FIELD, read_options

Kwargs = dict[str, Any]


def parse_docker_like_args(args: Sequence[str]) -> list[str]:
    """Split ``resources.docker_args`` (strings or one string) into tokens, shell-style."""
    tokens: list[str] = []
    for arg in args:
        tokens.extend(shlex.split(arg))
    return tokens


def _ipc(value: str, kw: Kwargs) -> None:
    if value not in SAFE_IPC:
        raise _unsafe(f"--ipc={value}")
    kw["ipc_mode"] = value


def _ipc_any(value: str, kw: Kwargs) -> None:
    kw["ipc_mode"] = value


def _ulimit(value: str, kw: Kwargs) -> None:
    from docker.types import Ulimit

    name, _, limits = value.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        soft_n = int(soft)
        hard_n = int(hard) if hard else soft_n
        if not name or not -1 <= min(soft_n, hard_n) <= max(soft_n, hard_n) < 2**63:
            raise ValueError(value)
    except ValueError as exc:
        raise SpecError(f"--ulimit '{value}' is not name=soft[:hard] with integer limits", field=FIELD,
                        hint="for example --ulimit memlock=-1:-1 or --ulimit nofile=65536") from exc
    kw.setdefault("ulimits", []).append(Ulimit(name=name, soft=soft_n, hard=hard_n))


def _listed(key: str) -> Callable[[str, Kwargs], None]:
    def handler(value: str, kw: Kwargs) -> None:
        kw.setdefault(key, []).append(value)
    return handler


def _mode(key: str) -> Callable[[str, Kwargs], None]:
    def handler(value: str, kw: Kwargs) -> None:
        kw[key] = value
    return handler


def _privileged(_value: str, kw: Kwargs) -> None:
    kw["privileged"] = True


def _env(value: str, kw: Kwargs) -> None:
    key, sep, val = value.partition("=")
    if not sep:
        raise SpecError(f"--env '{value}' has no value", field=FIELD, hint="write --env NAME=VALUE")
    kw.setdefault("environment", {})[key] = val


def size_in_bytes(option: str, value: str, *, unlimited: bool = False) -> int:
    """A ``docker run`` size (``512m``, ``2g``, ``1.5g``, bytes without a unit; ``-1`` where
    ``unlimited``) in bytes, as docker-py reads it; a ``SpecError`` for anything the engine would
    refuse when the job starts, so ``job validate`` refuses it too."""
    from docker.errors import DockerException
    from docker.utils import parse_bytes

    size: int | None = None
    cause: Exception | None = None
    try:
        size = int(parse_bytes(value.strip()))
    except (DockerException, ValueError, OverflowError) as exc:  # "lots", "nang", "infg"
        cause = exc
    if size is None or not (-1 if unlimited else 0) <= size < 2**63:
        raise SpecError(f"{option} '{value}' is not a size", field=FIELD,
                        hint="write a number with a unit b, k, m or g: 512m, 2g"
                             + (" (-1: unlimited)" if unlimited else "")) from cause
    return size


def _shm_size(value: str, kw: Kwargs) -> None:
    size_in_bytes("--shm-size", value)
    kw["shm_size"] = value


def _memory(value: str, kw: Kwargs) -> None:
    size_in_bytes("--memory", value)
    kw["mem_limit"] = value


def _memory_swap(value: str, kw: Kwargs) -> None:
    size_in_bytes("--memory-swap", value, unlimited=True)
    kw["memswap_limit"] = value


def _cpus(value: str, kw: Kwargs) -> None:
    try:
        kw["nano_cpus"] = int(float(value) * 1e9)
    except (ValueError, OverflowError) as exc:  # "lots", "nan", "inf"
        raise SpecError(f"--cpus '{value}' is not a number", field=FIELD, hint="e.g. --cpus 1.5") from exc
    if not 0 < kw["nano_cpus"] < 2**63:
        raise SpecError(f"--cpus '{value}' is not a positive number of CPUs", field=FIELD,
                        hint="e.g. --cpus 1.5")


def _int_option(key: str) -> Callable[[str, Kwargs], None]:
    def handler(value: str, kw: Kwargs) -> None:
        try:
            kw[key] = int(value)
            if not -1 <= kw[key] < 2**63:  # (-1: unlimited, as the engine reads it)
                raise ValueError(value)
        except ValueError as exc:
            raise SpecError(f"'{value}' is not an integer ({key})", field=FIELD) from exc
    return handler


def _user(value: str, kw: Kwargs) -> None:
    kw["user"] = value


def _gpus(value: str, kw: Kwargs) -> None:
    count = gpu_count_from_text(value)
    kw["device_requests"] = gpu_device_requests(count)


def _tmpfs(value: str, kw: Kwargs) -> None:
    path, _, opts = value.partition(":")
    if not path.startswith("/"):
        raise SpecError(f"--tmpfs '{value}' is not an absolute path in the container", field=FIELD,
                        hint="write --tmpfs /scratch[:size=64m]")
    normal = posixpath.normpath("/" + path.lstrip("/"))
    if normal == CONTAINER_ROOT or normal.startswith(CONTAINER_ROOT + "/"):
        raise SpecError(f"--tmpfs '{value}' would hide what runner binds at {CONTAINER_ROOT} (the job's "
                        "inputs, outputs, code and MLflow folder): what the job wrote there would be thrown "
                        "away", field=FIELD,
                        hint=f"mount the tmpfs outside {CONTAINER_ROOT} (--tmpfs /scratch) for scratch "
                             "space; write what must be kept to ${{outputs.<name>}}")
    kw.setdefault("tmpfs", {})[path] = opts


def _init(_value: str, kw: Kwargs) -> None:
    kw["init"] = True


def _ignored(_value: str, _kw: Kwargs) -> None:
    """Options that are already what the runner does (the container is always removed)."""


SAFE_IPC = ("private", "shareable", "none", "")

# option -> handler: what a job may always ask for (which options take a value:
# runner.spec.docker_tokens.VALUE_OPTIONS, the one reading of docker_args the masking of secrets shares)
OPTIONS: dict[str, Callable[[str, Kwargs], None]] = {
    "--ipc": _ipc,
    "--ulimit": _ulimit,
    "--cap-drop": _listed("cap_drop"),
    "--env": _env,
    "-e": _env,
    "--shm-size": _shm_size,
    "--memory": _memory,
    "-m": _memory,
    "--memory-swap": _memory_swap,
    "--cpus": _cpus,
    "--cpu-shares": _int_option("cpu_shares"),
    "--pids-limit": _int_option("pids_limit"),
    "--user": _user,
    "-u": _user,
    "--gpus": _gpus,
    "--tmpfs": _tmpfs,
    "--init": _init,
    "--rm": _ignored,
}
# options that can weaken isolation: only with --allow-unsafe-docker-args
UNSAFE_OPTIONS: dict[str, Callable[[str, Kwargs], None]] = {
    "--ipc": _ipc_any,
    "--cap-add": _listed("cap_add"),
    "--privileged": _privileged,
    "--security-opt": _listed("security_opt"),
    "--device": _listed("devices"),
    "--pid": _mode("pid_mode"),
    "--uts": _mode("uts_mode"),
    "--userns": _mode("userns_mode"),
}
NEVER = ("--network", "--net", "-v", "--volume", "--mount", "--volumes-from", "--cgroup-parent",
         "--add-host", "-p", "--publish", "-P", "--publish-all")
UNSAFE_HINT = ("remove it; if the job really needs it, create the job with --allow-unsafe-docker-args "
               "(or RUNNER_ALLOW_UNSAFE_DOCKER_ARGS=1): its inputs are then no longer protected, and the "
               "job record says so")
UNSAFE_PYTHON_HINT = UNSAFE_HINT.replace("--allow-unsafe-docker-args", "ml_client.jobs.create_or_update(job, "
                                         "allow_unsafe_docker_args=True)")


def allowed_options() -> str:
    return ", ".join(sorted(o for o in OPTIONS if o.startswith("--")))


def _unsafe(option: str) -> SpecError:
    return SpecError(f"docker_args option '{option}' could weaken the container's isolation (a job could "
                     "write into its read-only inputs: a registered model, the download cache), so it is "
                     "refused", field=FIELD, hint=UNSAFE_HINT, python_hint=UNSAFE_PYTHON_HINT)


def parse_docker_args(args: Sequence[str], *, allow_unsafe: bool = False) -> Kwargs:
    """Turn docker_args (``["--shm-size 2g", "--ulimit memlock=-1"]`` or one string) into create
    kwargs, read as ``runner.spec.docker_tokens`` reads them (an option given another option as its value
    is refused). ``allow_unsafe`` also accepts ``UNSAFE_OPTIONS`` (see the module)."""
    kw: Kwargs = {}
    for option in read_options([parse_docker_like_args(args)]):
        name = option.name
        table = UNSAFE_OPTIONS if allow_unsafe and name in UNSAFE_OPTIONS else OPTIONS
        if name not in table:
            if name in UNSAFE_OPTIONS:
                raise _unsafe(name)
            why = " (runner chooses the network and binds exactly what the job was given)" \
                if name in NEVER else ""
            raise SpecError(f"docker_args option '{name}' is not supported{why}", field=FIELD,
                            hint=f"supported options: {allowed_options()}")
        error = option.error()
        if error is not None:
            raise error
        table[name](option.value or "", kw)
    return kw


def engine_error(what: str, said: object, plan: RunPlan) -> ContainerError:
    """``what`` failed as the engine (or docker-py) ``said``, with each of the job's secret values shown as
    ``***``: its words may echo a value the job was given (``unable to find user <--user's value>``)."""
    return ContainerError(f"{what}: {without_secret_values(str(said), plan)}")


def gpu_count_from_text(value: str) -> int:
    """``all`` -> -1; ``2`` or ``count=2`` -> 2."""
    text = value.strip().strip('"').removeprefix("count=")
    if text == "all":
        return -1
    try:
        count = int(text)
        if not 0 <= count < 2**31:
            raise ValueError(text)
    except ValueError as exc:
        raise SpecError(f"--gpus '{value}' is not 'all' or a count", field=FIELD,
                        hint="use --gpus all or --gpus 2") from exc
    return count


def gpu_device_requests(count: int, device_ids: tuple[str, ...] = ()) -> list[Any]:
    """docker-py device requests for ``count`` GPUs (-1 = all); empty for 0. ``device_ids``: the very
    GPUs to give (those a Ray node assigned the job), instead of any ``count`` of them."""
    if count == 0 and not device_ids:
        return []
    from docker.types import DeviceRequest

    if device_ids:
        return [DeviceRequest(device_ids=list(device_ids), capabilities=[["gpu"]])]
    return [DeviceRequest(count=count, capabilities=[["gpu"]])]
