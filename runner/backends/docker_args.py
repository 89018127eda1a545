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

from runner.errors import SpecError
from runner.plan.types import CONTAINER_ROOT

FIELD = "resources.docker_args"

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

# option -> (takes a value, handler): what a job may always ask for
OPTIONS: dict[str, tuple[bool, Callable[[str, Kwargs], None]]] = {
    "--ipc": (True, _ipc),
    "--ulimit": (True, _ulimit),
    "--cap-drop": (True, _listed("cap_drop")),
    "--env": (True, _env),
    "-e": (True, _env),
    "--shm-size": (True, _shm_size),
    "--memory": (True, _memory),
    "-m": (True, _memory),
    "--memory-swap": (True, _memory_swap),
    "--cpus": (True, _cpus),
    "--cpu-shares": (True, _int_option("cpu_shares")),
    "--pids-limit": (True, _int_option("pids_limit")),
    "--user": (True, _user),
    "-u": (True, _user),
    "--gpus": (True, _gpus),
    "--tmpfs": (True, _tmpfs),
    "--init": (False, _init),
    "--rm": (False, _ignored),
}
# options that can weaken isolation: only with --allow-unsafe-docker-args
UNSAFE_OPTIONS: dict[str, tuple[bool, Callable[[str, Kwargs], None]]] = {
    "--ipc": (True, _ipc_any),
    "--cap-add": (True, _listed("cap_add")),
    "--privileged": (False, _privileged),
    "--security-opt": (True, _listed("security_opt")),
    "--device": (True, _listed("devices")),
    "--pid": (True, _mode("pid_mode")),
    "--uts": (True, _mode("uts_mode")),
    "--userns": (True, _mode("userns_mode")),
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
    kwargs. ``allow_unsafe`` also accepts ``UNSAFE_OPTIONS`` (see the module)."""
    tokens = parse_docker_like_args(args)
    kw: Kwargs = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, has_inline, inline = token.partition("=")
        table = UNSAFE_OPTIONS if allow_unsafe and name in UNSAFE_OPTIONS else OPTIONS
        if name not in table:
            if name in UNSAFE_OPTIONS:
                raise _unsafe(name)
            why = " (runner chooses the network and binds exactly what the job was given)" \
                if name in NEVER else ""
            raise SpecError(f"docker_args option '{name}' is not supported{why}", field=FIELD,
                            hint=f"supported options: {allowed_options()}")
        takes_value, handler = table[name]
        if takes_value and not has_inline:
            if i + 1 >= len(tokens):
                raise SpecError(f"docker_args option '{name}' needs a value", field=FIELD)
            inline = tokens[i + 1]
            i += 1
        elif not takes_value and has_inline:
            raise SpecError(f"docker_args option '{name}' takes no value", field=FIELD)
        handler(inline, kw)
        i += 1
    return kw


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
