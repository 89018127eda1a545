"""The zips a Ray Job of runner carries in its ``runtime_env.py_modules``.

- The runner package (``runner/`` and ``mounts/`` of this installation), content-addressed and uploaded
  once per content: the node runs exactly the submitting side's runner, with no install (its Python
  needs runner's dependencies, ray and a Docker engine). ``ship_runner: false`` on the compute skips it
  when the nodes' image has runner installed.
- One package per job: ``<job package>/payload.json`` (the plan, the datastore configs the node needs,
  their credentials included, where to write the result), ``code/`` (the job's code snapshot) and
  ``build/`` (an environment's build context). Its name is random, so no other job can reuse it; it
  is written owner-only and deleted once uploaded. Credentials travel only here: never in the Ray
  Job's entrypoint, metadata or ``env_vars``, which the dashboard shows to anyone who can reach it.

Zips are written to disk file by file (memory stays bounded) and capped at Ray's 100 MiB per package.

What comes back goes through the compute's datastore, never through Ray's log (which mixes stdout and
stderr): the node writes ``<control>/result.json`` and ``<control>/runner.log`` (``write_control``),
the follower reads them (``read_control``, ``fetch_control``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.backends.ray_jobs import MAX_UPLOAD_BYTES
from runner.errors import SpecError
from runner.workspace.code_tree import PACKAGE, check_code_tree, code_tree_refusal, special_kind
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.trees import walk

PAYLOAD = "payload.json"
SKIP_DIRS = {"__pycache__", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same content gives the same zip


def _files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in walk(root):  # os.walk's, any depth: no recursion
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(folder) / name


def _left_out(folder: str, names: list[str]) -> list[str]:
    """What ``_files`` leaves out (``check_code_tree``'s ``ignore``): caches, ``.git``, compiled files."""
    return [name for name in names if name in SKIP_DIRS or name.endswith((".pyc", ".pyo"))]


def _write_tree(archive: zipfile.ZipFile, root: Path, prefix: str, digest: Any = None, *,
                field: str = "code") -> None:
    """Every regular file below ``root`` (a link: what it names) into ``archive``; anything else met (a
    link to a FIFO, an entry swapped after the check) is ``check_code_tree``'s one error on ``field``,
    and a FIFO is never opened (``O_NONBLOCK``; what was opened is checked before a byte is read)."""
    for path in _files(root):
        try:
            fd = _open_regular(path)
        except FileNotFoundError:
            if path.is_symlink():
                continue  # a dangling link (the code snapshot keeps links): nothing to ship
            raise
        except _NotRegular as exc:
            raise code_tree_refusal(root, [(path.relative_to(root).as_posix(), str(exc))], field,
                                    kind=PACKAGE) from None
        arcname = f"{prefix}/{path.relative_to(root).as_posix()}"
        info = zipfile.ZipInfo(arcname, _EPOCH)
        with os.fdopen(fd, "rb") as source:
            info.external_attr = (os.fstat(source.fileno()).st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
                    if digest is not None:
                        digest.update(chunk)
        if digest is not None:
            digest.update(b"\0" + arcname.encode() + b"\0")


class _NotRegular(Exception):
    """Why a listed entry cannot be packaged ("a FIFO", "a link to a socket", "not readable")."""


def _open_regular(path: Path) -> int:
    """``path`` (a link followed) opened for reading when it is a regular file; else ``_NotRegular``.
    Its kind is looked at before it is opened and again on what was opened: a FIFO is never opened."""
    link = "a link to " if path.is_symlink() else ""
    mode = path.stat().st_mode  # FileNotFoundError: a dangling link, or gone
    if not stat.S_ISREG(mode):
        raise _NotRegular(link + special_kind(mode) if not stat.S_ISDIR(mode) else link + "a folder")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except PermissionError:
        raise _NotRegular("not readable") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped in between
        os.close(fd)
        raise _NotRegular(link + special_kind(mode))
    return fd


def runner_package(cache_dir: Path) -> tuple[str, Path]:
    """(package name, zip path) of this installation's ``runner`` and ``mounts``, built once per
    content in ``cache_dir``."""
    roots = [Path(__file__).resolve().parents[1], _mounts_root()]
    digest = hashlib.sha1(usedforsecurity=False)
    for root in roots:
        for path in _files(root):
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())  # runner's own sources: a few hundred small files
    name = f"_ray_pkg_{digest.hexdigest()}.zip"
    target = cache_dir / "ray-packages" / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for root in roots:
                _write_tree(archive, root, root.name, field="ship_runner")
        os.replace(tmp, target)
    return name, target


def _mounts_root() -> Path:
    """The installed ``mounts`` package's folder (located, not imported: this module uses none of it)."""
    spec = importlib.util.find_spec("mounts")
    assert spec is not None and spec.origin is not None, "runner is installed without its mounts package"
    return Path(spec.origin).parent


def job_package(folder: Path, payload: dict[str, Any], *, code: Path | None,
                build: Path | None) -> tuple[str, str, Path]:
    """(package name, top folder, zip path) of one job: its payload (credentials: owner-only file),
    code snapshot and build context. The caller deletes the zip once uploaded."""
    token = secrets.token_hex(16)
    top = f"runner_job_{token}"
    name = f"_ray_pkg_{hashlib.sha1(token.encode(), usedforsecurity=False).hexdigest()}.zip"
    path = folder / name
    named = ((code, "code", "code"), (build, "environment", "build"))  # (folder, field, in the zip)
    trees = [(tree, field, to) for tree, field, to in named if tree is not None and tree.is_dir()]
    for tree, field, _ in trees:  # before anything is written: nothing opened, a FIFO never blocks
        check_code_tree(tree, field=field, ignore=_left_out, kind=PACKAGE)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            archive.writestr(zipfile.ZipInfo(f"{top}/{PAYLOAD}", _EPOCH), json.dumps(payload))
            for tree, field, to in trees:
                _write_tree(archive, tree, f"{top}/{to}", field=field)
    except BaseException:
        path.unlink(missing_ok=True)  # it holds the payload's credentials
        raise
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        path.unlink()
        raise SpecError(f"the job's code and build context take {size / 2 ** 20:.0f} MiB compressed; a Ray "
                        f"cluster takes at most {MAX_UPLOAD_BYTES // 2 ** 20} MiB per job",
                        field="code", hint="keep data out of code: (pass it as an input on a datastore "
                                           "the nodes reach)")
    return name, top, path


def find_job_folder(top: str, search: list[str]) -> Path:
    """On the node: the extracted job package (a py_modules folder on ``PYTHONPATH``)."""
    for entry in search:
        candidate = Path(entry or ".") / top
        if (candidate / PAYLOAD).is_file():
            return candidate
    raise FileNotFoundError(f"job package {top} is not on the module path ({len(search)} entries)")


def _control_file(ws: Workspace, control: str, name: str) -> ResolvedPath:
    return Resolver(ws).resolve_output(f"{control.rstrip('/')}/{name}", job_name="", output_name=name)


def write_control(ws: Workspace, control: str, name: str, data: bytes | Path) -> None:
    """Write ``name`` (bytes, or a local file streamed) under the job's control folder on the compute's
    datastore (``<control>/result.json``, ``<control>/runner.log``)."""
    target = _control_file(ws, control, name)
    parent = target.path.rsplit("/", 1)[0]
    with contextlib.suppress(OSError):  # object stores have no folders; a local one needs it
        target.fs.makedirs(parent, exist_ok=True)
    if isinstance(data, Path):
        target.fs.put_file(str(data), target.path)
    else:
        with target.fs.open(target.path, "wb") as handle:
            handle.write(data)


def read_control(ws: Workspace, control: str, name: str, *, limit: int = 1 << 20) -> bytes | None:
    """The first ``limit`` bytes of ``name`` in the job's control folder; None when it is not there."""
    try:
        target = _control_file(ws, control, name)
        with target.fs.open(target.path, "rb") as handle:
            return bytes(handle.read(limit))
    except FileNotFoundError:
        return None


def fetch_control(ws: Workspace, control: str, name: str, local: Path) -> bool:
    """Copy ``name`` from the job's control folder to ``local`` (streamed); False when it is not there."""
    try:
        target = _control_file(ws, control, name)
        target.fs.get_file(target.path, str(local))
    except FileNotFoundError:
        return False
    return True
