"""Operations the benchmarks run in a child process, so each one's peak RSS is its own.

    python bench/child_ops.py download --path bench/large/f00000.bin --file --workdir DIR [--cache DIR]
                                       [--no-verify]
    python bench/child_ops.py upload --src DIR --path container/prefix
    python bench/child_ops.py sdk-upload --src DIR --path container/prefix [--concurrency 16] [--md5]
    python bench/child_ops.py mount --path bench --workdir DIR        (unmounts when stdin closes)
    python bench/child_ops.py mount-local --dir DIR --workdir DIR [--names-only]   (the same, local)
    python bench/child_ops.py read-files --dir DIR                     (every file, 1 MiB reads)
    python bench/child_ops.py drop-container --container NAME [--expect MANIFEST.json]
                                                (prints the bytes it held; checks their SHA-256)

The Azurite connection string comes from ``BENCH_AZURE_CONNECTION_STRING`` (never argv). Each operation
prints one JSON line with its in-process timings (``seconds``: the measured step only, after imports).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROCESS_START = time.perf_counter()
MiB = 1 << 20


def cpu_now() -> tuple[float, float]:
    """(user, system) CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def cpu_fields(before: tuple[float, float]) -> dict[str, float]:
    """The CPU of the measured step (user + system, and each): the difference around it, so interpreter
    start and imports are left out (reported apart as ``startup_cpu``, the CPU used before it)."""
    user, system = cpu_now()
    return {"cpu": user - before[0] + system - before[1], "cpu_user": user - before[0],
            "cpu_sys": system - before[1], "startup_cpu": before[0] + before[1]}


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def connection_string() -> str:
    return os.environ["BENCH_AZURE_CONNECTION_STRING"]


def adlfs_fs() -> Any:
    from adlfs import AzureBlobFileSystem

    return AzureBlobFileSystem(connection_string=connection_string())


def op_download(args: argparse.Namespace) -> None:
    from mounts.base import Source
    from mounts.cache import ContentCache
    from mounts.download import DownloadStrategy
    from mounts.transfer.downloader import TransferOptions

    fs = adlfs_fs()
    cache = ContentCache(Path(args.cache)) if args.cache else None
    key = f"bench:{args.path}" if args.cache else None
    source = Source(fs=fs, path=args.path, url=f"abfs://{args.path}", is_dir=not args.file, cache_key=key)
    options = TransferOptions(verify_md5=not args.no_verify)
    strategy = DownloadStrategy(cache, quiet=True, keep=True, options=options)
    imported, cpu_before = time.perf_counter(), cpu_now()
    with strategy.materialize(source, Path(args.workdir)) as materialized:
        ready, cpu = time.perf_counter(), cpu_fields(cpu_before)
        files = sum(len(names) for _, _, names in os.walk(str(materialized.host_path)))
    emit(seconds=ready - imported, startup=imported - PROCESS_START, files=files,
         host_path=str(materialized.host_path), **cpu)


def op_upload(args: argparse.Namespace) -> None:
    from mounts.base import Target
    from mounts.upload import UploadStrategy

    fs = adlfs_fs()
    container = args.path.split("/", 1)[0]
    if not fs.exists(container):
        fs.mkdir(container)
    target = Target(fs=fs, path=args.path, url=f"abfs://{args.path}")
    strategy = UploadStrategy(quiet=True, keep_staged=True)
    started, cpu_before = time.perf_counter(), cpu_now()
    strategy.finalize(target, Path(args.src))
    emit(seconds=time.perf_counter() - started, startup=started - PROCESS_START, **cpu_fields(cpu_before))


def op_sdk_upload(args: argparse.Namespace) -> None:
    """azure-storage-blob ``upload_blob`` with tuned concurrency: files in parallel, blocks in parallel.

    ``--md5``: the checks ours makes: every request's MD5 checked by the service (``validate_content``),
    the whole file's MD5 computed, stored as the blob's Content-MD5, and compared (with the size) with
    what the service reports once the blob is committed."""
    import hashlib

    from azure.storage.blob import BlobServiceClient, ContentSettings

    service = BlobServiceClient.from_connection_string(connection_string(), max_single_put_size=4 * MiB,
                                                       max_block_size=8 * MiB)
    container_name, _, prefix = args.path.partition("/")
    container = service.get_container_client(container_name)
    if not container.exists():
        container.create_container()
    src = Path(args.src)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    workers = max(1, min(args.concurrency, len(files)))
    per_file = max(1, args.concurrency // workers)

    def file_md5(path: Path) -> bytes:
        digest = hashlib.md5()
        with open(path, "rb") as stream:
            while block := stream.read(8 * MiB):
                digest.update(block)
        return digest.digest()

    def put(path: Path) -> None:
        name = f"{prefix}/{path.relative_to(src).as_posix()}" if prefix else path.relative_to(src).as_posix()
        size = path.stat().st_size
        md5 = file_md5(path) if args.md5 else b""
        settings = ContentSettings(content_md5=bytearray(md5)) if args.md5 else None
        with open(path, "rb") as data:
            blob = container.upload_blob(name, data, length=size, overwrite=True, max_concurrency=per_file,
                                         validate_content=args.md5, content_settings=settings)
        if args.md5:
            props = blob.get_blob_properties()
            stored = props.content_settings.content_md5
            if props.size != size or stored is None or bytes(stored) != md5:
                raise OSError(f"verification failed for {name}")

    started, cpu_before = time.perf_counter(), cpu_now()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, files))
    emit(seconds=time.perf_counter() - started, startup=started - PROCESS_START, workers=workers,
         per_file=per_file, **cpu_fields(cpu_before))


def op_mount(args: argparse.Namespace) -> None:
    from mounts.base import Source
    from mounts.ro_mount import RoMountStrategy
    from mounts.stores.azure_account import account_from_options
    from mounts.stores.deferred import DeferredAzureFileSystem

    # as an Azure datastore opens it (runner.workspace.transfers.azure_filesystem): adlfs made only if
    # something needs it, which a read-only mount through the lean client does not
    account = account_from_options({"connection_string": connection_string()})
    assert account is not None
    fs = DeferredAzureFileSystem(account, adlfs_fs)
    source = Source(fs=fs, path=args.path, url=f"abfs://{args.path}", is_dir=True)
    imported, cpu_before = time.perf_counter(), cpu_now()
    strategy = RoMountStrategy()
    if args.read_ahead_kb is not None:
        strategy.read_ahead_kb = args.read_ahead_kb
    with strategy.materialize(source, Path(args.workdir)) as materialized:
        mounted = time.perf_counter()
        assert materialized.host_path is not None
        entries = os.listdir(materialized.host_path)
        listed = time.perf_counter()
        emit(mount_s=mounted - imported, ready_s=listed - imported, startup=imported - PROCESS_START,
             startup_cpu=sum(cpu_before), mountpoint=str(materialized.host_path), entries=len(entries),
             adlfs="adlfs" in sys.modules)
        sys.stdin.read()  # the parent closes stdin when it is done reading through the mount


def op_mount_local(args: argparse.Namespace) -> None:
    """A local folder through our read-only FUSE mount (what a host-process job gets for a local input):
    the FUSE layer alone, no store in the way. ``--names-only``: listings without attributes, as before
    READDIRPLUS (``mounts.fuse.plus``), for an A/B in one invocation."""
    from fsspec.implementations.local import LocalFileSystem

    from mounts.base import Source
    from mounts.fuse.ro import FsspecReadOnly
    from mounts.ro_mount import RoMountStrategy

    if args.names_only:
        FsspecReadOnly.readdir_plus = None  # type: ignore[assignment,method-assign]
    source = Source(fs=LocalFileSystem(), path=args.dir, url=f"file://{args.dir}", is_dir=True,
                    local_path=Path(args.dir))
    with RoMountStrategy(fuse_local=True).materialize(source, Path(args.workdir)) as materialized:
        assert materialized.host_path is not None
        emit(mountpoint=str(materialized.host_path))
        sys.stdout.flush()
        sys.stdin.read()


def op_read_files(args: argparse.Namespace) -> None:
    """Every file read whole (1 MiB reads); ``--digests OUT``: each one's SHA-256 computed while read,
    written to OUT as {relative path: SHA-256} (the check is part of the read)."""
    import hashlib

    root = Path(args.dir)
    started = time.perf_counter()
    buffer = bytearray(MiB)
    view = memoryview(buffer)
    files = total = 0
    digests: dict[str, str] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            digest = hashlib.sha256() if args.digests else None
            with open(path, "rb", buffering=0) as stream:
                while count := stream.readinto(buffer):
                    total += count
                    if digest is not None:
                        digest.update(view[:count])
            if digest is not None:
                digests[os.path.relpath(path, root)] = digest.hexdigest()
            files += 1
    seconds = time.perf_counter() - started
    if args.digests:
        Path(args.digests).write_text(json.dumps(digests))
    emit(seconds=seconds, files=files, bytes=total)


def op_list_tree(args: argparse.Namespace) -> None:
    """Walk ``--dir`` and ``lstat`` every file (what ``ls -lR`` or a data loader's index does)."""
    started = time.perf_counter()
    files = total = 0
    for dirpath, _dirs, names in os.walk(args.dir):
        for name in names:
            total += os.lstat(os.path.join(dirpath, name)).st_size
            files += 1
    emit(seconds=time.perf_counter() - started, files=files, bytes=total)


def op_check_container(args: argparse.Namespace) -> None:
    """Check every blob of a container against ``--expect`` ({"md5": {name: hex}}: size and stored
    Content-MD5 from the listing; {"sha256": {name: hex}}: every blob read back and hashed), then
    delete the container."""
    import hashlib

    from azure.storage.blob import BlobServiceClient

    container = BlobServiceClient.from_connection_string(connection_string()).get_container_client(
        args.container)
    expected = json.loads(Path(args.expect).read_text())
    kind, wanted = next(iter(expected.items()))
    found: dict[str, str] = {}
    stored = files = 0
    for blob in container.list_blobs():
        stored += int(blob.size or 0)
        files += 1
        if kind == "md5":
            md5 = blob.content_settings.content_md5
            found[blob.name] = bytes(md5).hex() if md5 else ""
        else:
            digest = hashlib.sha256()
            for chunk in container.download_blob(blob.name, max_concurrency=4).chunks():
                digest.update(chunk)
            found[blob.name] = digest.hexdigest()
    container.delete_container()
    if found != wanted:
        wrong = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        raise SystemExit(f"{args.container}: {len(wrong)} blobs differ from the source, e.g. {wrong[:3]}")
    emit(bytes=stored, files=files, checked=kind)


def op_drop_container(args: argparse.Namespace) -> None:
    """Count (and with ``--expect``, read back and SHA-256) every blob of a container, then delete it."""
    import hashlib

    from azure.storage.blob import BlobServiceClient

    container = BlobServiceClient.from_connection_string(connection_string()).get_container_client(
        args.container)
    expected = json.loads(Path(args.expect).read_text()) if args.expect else None
    found: dict[str, str] = {}
    stored = files = 0
    for blob in container.list_blobs():
        stored += int(blob.size or 0)
        files += 1
        if expected is not None:
            digest = hashlib.sha256()
            for chunk in container.download_blob(blob.name, max_concurrency=4).chunks():
                digest.update(chunk)
            found[blob.name] = digest.hexdigest()
    container.delete_container()
    if expected is not None and found != expected:
        wrong = sorted(k for k in set(found) | set(expected) if found.get(k) != expected.get(k))
        raise SystemExit(f"{args.container}: {len(wrong)} blobs differ from the source, e.g. {wrong[:3]}")
    emit(bytes=stored, files=files, checked=expected is not None)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="op", required=True)
    download = sub.add_parser("download")
    download.add_argument("--path", required=True)
    download.add_argument("--file", action="store_true")
    download.add_argument("--workdir", required=True)
    download.add_argument("--cache")
    download.add_argument("--no-verify", action="store_true", help="skip the MD5 check (size only)")
    for name in ("upload", "sdk-upload"):
        upload = sub.add_parser(name)
        upload.add_argument("--src", required=True)
        upload.add_argument("--path", required=True)
        upload.add_argument("--concurrency", type=int, default=16)
        if name == "sdk-upload":
            upload.add_argument("--md5", action="store_true", help="the same MD5 checks as ours")
    mount = sub.add_parser("mount")
    mount.add_argument("--path", required=True)
    mount.add_argument("--workdir", required=True)
    mount.add_argument("--read-ahead-kb", type=int, help="the kernel's readahead window (default: ours)")
    local = sub.add_parser("mount-local")
    local.add_argument("--dir", required=True)
    local.add_argument("--workdir", required=True)
    local.add_argument("--names-only", action="store_true", help="listings without attributes (A/B)")
    read = sub.add_parser("read-files")
    read.add_argument("--dir", required=True)
    read.add_argument("--digests", help="write {relative path: SHA-256} of what was read to this file")
    sub.add_parser("list-tree").add_argument("--dir", required=True)
    check = sub.add_parser("check-container")
    check.add_argument("--container", required=True)
    check.add_argument("--expect", required=True, help='{"md5"|"sha256": {blob name: hex digest}}')
    drop = sub.add_parser("drop-container")
    drop.add_argument("--container", required=True)
    drop.add_argument("--expect", help="JSON {blob name: SHA-256} the container must hold exactly")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    {"download": op_download, "upload": op_upload, "sdk-upload": op_sdk_upload, "mount": op_mount,
     "mount-local": op_mount_local,
     "read-files": op_read_files, "list-tree": op_list_tree, "check-container": op_check_container,
     "drop-container": op_drop_container}[args.op](args)


if __name__ == "__main__":
    main()
