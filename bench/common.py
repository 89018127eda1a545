"""Shared pieces of the transfer and mount benchmarks.

* ``Azurite``: a private, freshly started Azurite (never the shared one), restartable on the same data
  (Azurite slows down after long heavy use, so each benchmark section gets a fresh process);
* ``make_local_data`` / ``seed``: the data sets as local files (random bytes, generated in chunks) and
  uploaded once into the private Azurite with rclone;
* ``run_child`` / ``Child``: a child process timed from spawn to exit, with its own peak RSS
  (``os.wait4`` gives the rusage of exactly that child);
* ``Cleanup``: everything started here (processes, mounts, temp dirs) is undone on every exit path,
  including Ctrl-C and SIGTERM;
* ``Digests`` / ``check_tree``: the SHA-256 of every file of the local data sets, and the check, after
  every run of every tool, that what it moved (downloaded, uploaded, read through a mount) is those
  bytes (untimed: a benchmark that moved the wrong bytes has no figure);
* ``rclone_elapsed``: rclone's own transfer time from its JSON stats (``RCLONE_STATS_FLAGS``), so its
  in-process figure can stand next to ours (its whole process: ``ChildResult.seconds``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

log = logging.getLogger("bench")

MiB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
AZURITE_BIN = Path.home() / ".cache/runner/azurite/node_modules/.bin/azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (public, the same for every Azurite): not a secret
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "bench"


@dataclass
class CodeTree:
    """The tree whose ``mounts`` and ``bench/child_ops.py`` the children run (see ``use_code``)."""

    root: Path
    label: str


CODE = CodeTree(ROOT, "working tree")


@dataclass(frozen=True)
class DataSet:
    name: str  # folder under the data root and under ``CONTAINER`` in Azurite
    files: int
    size: int  # bytes per file

    @property
    def total(self) -> int:
        return self.files * self.size

    def label(self) -> str:
        unit = f"{self.size // MiB} MiB" if self.size >= MiB else f"{self.size // 1024} KiB"
        return f"{self.files} x {unit}" if self.files > 1 else unit


FULL = [DataSet("large", 1, 1024 * MiB), DataSet("small", 2000, 64 * 1024), DataSet("medium", 20, 50 * MiB)]
QUICK = [DataSet("large", 1, 64 * MiB), DataSet("small", 200, 64 * 1024), DataSet("medium", 4, 8 * MiB)]


def data_sets(quick: bool) -> list[DataSet]:
    return QUICK if quick else FULL


# -- cleanup on every exit path ----------------------------------------------------------------------
class Cleanup:
    """A LIFO stack of undo actions run once: on normal exit, exceptions, Ctrl-C and SIGTERM/SIGHUP."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def push(self, action: Callable[[], object]) -> None:
        self._stack.callback(_quietly, action)

    def __enter__(self) -> Cleanup:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _raise_exit)
        return self

    def __exit__(self, *exc: object) -> None:
        # a second Ctrl-C during cleanup must not abort it half-way
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._stack.close()
        finally:
            signal.signal(signal.SIGINT, previous)


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - cleanup goes on with the next action
        log.warning("cleanup step failed: %s", exc)


def kill_group(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Stop ``proc`` (started with ``start_new_session``) and its children: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(grace)


def is_mountpoint(path: Path) -> bool:
    target = os.path.abspath(path)
    with open("/proc/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == target for line in mounts if len(line.split()) > 1)


def force_unmount(path: Path) -> None:
    """Lazy unmount when still mounted (used only when the mount owner did not unmount itself)."""
    if is_mountpoint(path):
        helper = shutil.which("fusermount3") or "fusermount"
        subprocess.run([helper, "-u", "-z", str(path)], check=False, capture_output=True)


# -- child processes: time and peak RSS ----------------------------------------------------------------
@dataclass
class ChildResult:
    seconds: float  # spawn to exit
    max_rss_mb: float  # the child's own peak RSS
    cpu_s: float  # user + system CPU seconds of the child (robust when the machine is busy)
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        """The last JSON line the child printed (our child helpers report in-process timings so)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return dict(json.loads(line))
        raise RuntimeError(f"child printed no JSON: {self.stdout[-500:]} {self.stderr[-2000:]}")


# the ``cgroup.procs`` file every ``Child`` joins before it runs (``bench.memory_limit``), if any
CHILD_CGROUP_PROCS: list[str] = []


def _join_child_cgroup() -> None:
    """(In the forked child, before exec.) Join the benchmark's client cgroup."""
    with open(CHILD_CGROUP_PROCS[0], "w") as procs:
        procs.write(str(os.getpid()))


class Child:
    """A child process in its own session; ``finish`` reaps it with ``wait4`` for its own rusage."""

    def __init__(self, argv: Sequence[str], cleanup: Cleanup, *, env: dict[str, str] | None = None,
                 stdin: int | None = None, cwd: Path | None = None) -> None:
        self._out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
        self._err = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(list(argv), stdout=self._out, stderr=self._err, stdin=stdin,
                                     env={**os.environ, **(env or {})}, cwd=cwd or CODE.root, text=True,
                                     start_new_session=True,
                                     preexec_fn=_join_child_cgroup if CHILD_CGROUP_PROCS else None)
        cleanup.push(lambda: kill_group(self.proc))

    def finish(self, timeout: float = 3600.0) -> ChildResult:
        """Wait (blocking ``wait4``: exact end time, no polling) and collect output and rusage."""
        timer = threading.Timer(timeout, kill_group, [self.proc])
        timer.daemon = True
        timer.start()
        try:
            _pid, status, usage = os.wait4(self.proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        for stream in (self._out, self._err):
            stream.seek(0)
        result = ChildResult(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,
                             self.proc.returncode, self._out.read(), self._err.read())
        self._out.close()
        self._err.close()
        return result


def run_child(argv: Sequence[str], cleanup: Cleanup, *, env: dict[str, str] | None = None,
              timeout: float = 3600.0) -> ChildResult:
    result = Child(argv, cleanup, env=env).finish(timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} ... failed ({result.returncode}): {result.stderr[-3000:]}")
    return result


def child_ops(*args: str) -> list[str]:
    """argv of a ``bench/child_ops.py`` operation (our strategies and the SDK baseline)."""
    return [sys.executable, str(CODE.root / "bench" / "child_ops.py"), *args]


def use_code(revision: str, into: Path, folders: Sequence[str] = ("mounts", "bench")) -> str:
    """Run our side from a snapshot of ``revision`` (``git archive`` of ``folders`` into ``into``),
    so the figures belong to one commit even while others edit the working tree; ``worktree`` runs the
    working tree as it is. Returns a label for the results (commit hash, or "working tree")."""
    if revision == "worktree":
        CODE.root, CODE.label = ROOT, "working tree"
        return CODE.label
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, *folders],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    CODE.root, CODE.label = into, f"commit {commit[:10]}"
    return CODE.label


# -- checking what a tool moved --------------------------------------------------------------------------
def sha256_file(path: Path, chunk: int = 8 * MiB) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as stream:
        buffer = bytearray(chunk)
        while count := stream.readinto(buffer):
            digest.update(memoryview(buffer)[:count])
    return digest.hexdigest()


def tree_digests(root: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under ``root`` (``root`` itself when it is a file)."""
    if root.is_file():
        return {root.name: sha256_file(root)}
    return {path.relative_to(root).as_posix(): sha256_file(path)
            for path in sorted(root.rglob("*")) if path.is_file()}


@dataclass
class Digests:
    """The SHA-256 of the local data sets (the source of every upload, the content of every blob)."""

    local_root: Path
    _known: dict[str, dict[str, str]] = field(default_factory=dict)

    def of(self, data: DataSet) -> dict[str, str]:
        if data.name not in self._known:
            self._known[data.name] = tree_digests(self.local_root / data.name)
        return self._known[data.name]


def check_tree(root: Path, expected: dict[str, str], what: str) -> None:
    """Raise when the files under ``root`` are not exactly ``expected`` (names and SHA-256)."""
    found = tree_digests(root)
    if found != expected:
        missing = sorted(set(expected) - set(found))[:3]
        extra = sorted(set(found) - set(expected))[:3]
        wrong = sorted(k for k in set(found) & set(expected) if found[k] != expected[k])[:3]
        raise RuntimeError(f"{what}: the bytes differ from the source (missing {missing}, extra {extra}, "
                           f"different {wrong})")


# rclone prints its final stats as one JSON line (with ``elapsedTime`` in seconds, from the start of its
# accounting to the end of the transfers: its in-process time) and nothing else unless something fails.
RCLONE_STATS_FLAGS = ["--use-json-log", "--stats-log-level", "NOTICE"]


def rclone_elapsed(stderr: str) -> float:
    """rclone's own elapsed time (seconds) from the last stats line of a run with RCLONE_STATS_FLAGS."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("{") and '"stats"' in line:
            return float(json.loads(line)["stats"]["elapsedTime"])
    raise RuntimeError(f"rclone printed no stats (run it with {' '.join(RCLONE_STATS_FLAGS)}): "
                       f"{stderr[-500:]}")


def rotated(tools: Sequence[str], run: int) -> list[str]:
    """``tools`` starting at ``run``'s position: which tool goes first changes from run to run (the
    first reads after a restart, and a warm page cache, favour one side otherwise)."""
    first = run % len(tools)
    return [*tools[first:], *tools[:first]]


# -- Azurite -------------------------------------------------------------------------------------------
def free_port() -> int:
    """``BENCH_AZURITE_PORT`` when set (a port range agreed on a shared machine), else a free one."""
    if os.environ.get("BENCH_AZURITE_PORT"):
        return int(os.environ["BENCH_AZURITE_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Azurite:
    """A private Azurite on a free port with its own data folder; ``restart`` keeps the data."""

    location: Path
    cleanup: Cleanup
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    # no data on disk (--inMemoryPersistence): Azurite's PUT rate stops falling as its database grows
    # (4 KiB files: ~220/s against 55/s and falling); a restart loses everything
    in_memory: bool = False
    # HTTPS with a self-signed certificate (``bench.tls``), as Azure always serves: the clients are
    # told to trust it through the environment (``rclone_env``, ``child_env``)
    tls: bool = False
    cert: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol={self.scheme};AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint={self.endpoint};")

    def start(self) -> None:
        self.location.mkdir(parents=True, exist_ok=True)
        keep = ["--inMemoryPersistence"] if self.in_memory else ["--location", str(self.location)]
        argv = [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), *keep,
                "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
        if self.tls:
            from bench.tls import self_signed

            self.cert, key = self_signed(self.location.parent / "tls")
            argv += ["--cert", str(self.cert), "--key", str(key)]
        logfile = open(self.location.parent / "azurite.out", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
        logfile.close()
        proc = self.proc
        self.cleanup.push(lambda: kill_group(proc))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log_path = self.location.parent / "azurite.out"
                raise RuntimeError(f"Azurite exited ({proc.returncode}); see {log_path}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                log.info("Azurite listening on port %d", self.port)
                self.warm_up()
                return
            time.sleep(0.05)
        raise RuntimeError("Azurite did not start within 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None

    def restart(self) -> None:
        """A fresh Azurite process over the same data (restores its speed after heavy use)."""
        self.stop()
        self.start()

    def rclone_env(self) -> dict[str, str]:
        """rclone's ``:azureblob:`` remote reaches this Azurite through an account SAS URL.

        rclone 1.60 treats ``endpoint`` as a DNS suffix (``https://<account>.<endpoint>``: it would look
        up a host name off the machine) and ``use_emulator`` is fixed to port 10000; a SAS URL on
        ``http://127.0.0.1:<port>/devstoreaccount1`` is the one way to a private Azurite. The SAS is
        passed in the environment, not argv.
        """
        trust = {"RCLONE_CA_CERT": str(self.cert)} if self.cert else {}
        return {"RCLONE_AZUREBLOB_SAS_URL": f"{self.endpoint}?{account_sas()}", "RCLONE_CONFIG": "/dev/null",
                **trust}

    def warm_up(self) -> None:
        """The first request to a fresh Azurite can take seconds: make it before anything is timed."""
        started = time.perf_counter()
        run_child(["rclone", "lsd", rclone_remote(""), "--retries", "1"], self.cleanup, env=self.rclone_env())
        log.info("Azurite warm-up took %.2fs", time.perf_counter() - started)

    def child_env(self) -> dict[str, str]:
        # OpenSSL's default paths (our client, aiohttp) and requests (azure-storage-blob) trust the cert
        trust = {"SSL_CERT_FILE": str(self.cert), "REQUESTS_CA_BUNDLE": str(self.cert)} if self.cert else {}
        return {"BENCH_AZURE_CONNECTION_STRING": self.connection_string, **trust}


def account_sas() -> str:
    """An account SAS (read/write/list/delete, valid for a day) for Azurite's development account."""
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    permission = AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True)
    return str(generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                                    permission, datetime.now(UTC) + timedelta(days=1)))


def rclone_remote(path: str) -> str:
    """``:azureblob:container/path`` (the SAS URL comes from ``Azurite.rclone_env``)."""
    return f":azureblob:{path}"


# -- data sets -----------------------------------------------------------------------------------------
def write_random_file(path: Path, size: int, chunk: int = 8 * MiB) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        remaining = size
        while remaining > 0:
            step = min(chunk, remaining)
            out.write(os.urandom(step))
            remaining -= step


def make_local_data(root: Path, sets: Sequence[DataSet]) -> None:
    """Each data set as ``root/<name>/f<i>.bin`` (random bytes, written in chunks)."""
    for data in sets:
        for index in range(data.files):
            write_random_file(root / data.name / f"f{index:05d}.bin", data.size)


def seed(azurite: Azurite, local_root: Path, cleanup: Cleanup) -> float:
    """Upload the local data sets once into ``CONTAINER`` (rclone, many transfers); returns seconds."""
    started = time.perf_counter()
    run_child(["rclone", "copy", str(local_root), rclone_remote(CONTAINER), "--transfers", "16",
               "--azureblob-upload-concurrency", "16", "--azureblob-chunk-size", "8M"], cleanup,
              env=azurite.rclone_env())
    return time.perf_counter() - started


@contextlib.contextmanager
def bench_environment(quick: bool, cleanup: Cleanup, code: str = "HEAD", workroot: Path | None = None,
                      in_memory: bool = False,
                      tls: bool = False) -> Iterator[tuple[Azurite, Path, list[DataSet]]]:
    """A temp work folder, our code (``use_code``), local data sets, a private Azurite with the data
    uploaded once (``in_memory``: an Azurite that keeps its data in memory, see ``Azurite``, for uploads
    only: nothing is seeded; ``tls``: over HTTPS)."""
    workroot = workroot or (Path(os.environ["BENCH_WORKROOT"]) if os.environ.get("BENCH_WORKROOT") else None)
    if workroot is not None:
        workroot.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="runner-bench-", dir=workroot))
    cleanup.push(lambda: shutil.rmtree(work, ignore_errors=True))
    log.info("measuring our code from the %s", use_code(code, work / "code"))
    sets = data_sets(quick)
    local = work / "data"
    started = time.perf_counter()
    make_local_data(local, sets)
    log.info("local data ready in %.1fs", time.perf_counter() - started)
    azurite = Azurite(work / "azurite", cleanup, in_memory=in_memory, tls=tls)
    azurite.start()
    if not in_memory:
        log.info("seeded Azurite in %.1fs", seed(azurite, local, cleanup))
    yield azurite, work, sets


# -- a fixed CPU load beside the benchmark ---------------------------------------------------------------
BUSY_LOOP = "while 1: pass"


@contextlib.contextmanager
def busy_load(processes: int, cleanup: Cleanup) -> Iterator[None]:
    """``processes`` busy loops (``python -c 'while 1: pass'``, not pinned: the scheduler spreads them
    like any neighbour's work) for the duration of the block, stopped by PID at its end; 0: none."""
    children = []
    for _ in range(processes):
        proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], start_new_session=True)
        cleanup.push(functools.partial(kill_group, proc, grace=0.5))
        children.append(proc)
    if processes:
        log.info("%d busy loop(s) running beside the benchmark: %s", processes, [c.pid for c in children])
    try:
        yield
    finally:
        for proc in children:
            kill_group(proc, grace=0.5)


def load_label(processes: int) -> str:
    """How the section names the load it ran with."""
    return f"with {processes} busy loop{'s' if processes > 1 else ''} beside it" if processes else ""


# -- what a recorded section says about how it was run (bench_transfer, bench_ro_mount, bench_scale) -----
def add_tls_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls", action="store_true",
                        help="Azurite serves HTTPS (a self-signed certificate), as Azure always does")


def variant_flags(args: argparse.Namespace) -> str:
    """``--tls`` and ``--code`` as the recorded command names them (nothing for the defaults)."""
    code = getattr(args, "code", "HEAD")
    return (" --tls" if getattr(args, "tls", False) else "") + (f" --code {code}" if code != "HEAD" else "")


def variant_title(args: argparse.Namespace, middle: str = "") -> str:
    """The section title's suffix: the load added, ``middle`` (a benchmark's own variant), TLS."""
    load = getattr(args, "load", 0)
    return (f" — {load_label(load)}" if load else "") + middle + \
        (" — over TLS" if getattr(args, "tls", False) else "")


def added_load(args: argparse.Namespace) -> str:
    load = getattr(args, "load", 0)
    return f" Load added: {load} busy loop(s) (`python -c '{BUSY_LOOP}'`, not pinned) during the " \
        "measurements." if load else ""


# -- figures -------------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine_info() -> dict[str, str]:
    def out(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    free = out("free", "-g").splitlines()
    models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("model name")]
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nproc": out("nproc"),
            "cpu": models[0] if models else "?",
            "memory": "{} total, {} used".format(*free[1].split()[1:3]) if len(free) > 1 else "?",
            "kernel": platform.release(), "python": platform.python_version(),
            "azurite": out(str(AZURITE_BIN), "--version"),
            "rclone": out("rclone", "version").splitlines()[0] if out("rclone", "version") else "?",
            "load": load_average()}


def process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` so far (all its threads), from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


@dataclass
class Row:
    """One line of the result table: our figure against the baseline."""

    what: str
    ours: float
    baseline: float
    unit: str
    target: str  # e.g. ">= 1.0x", "<= 50 ms"
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        if not self.baseline or self.baseline != self.baseline:
            return float("nan")
        return self.ours / self.baseline

    def met(self) -> str:
        if self.target in ("", "-"):
            return "-"
        kind, _, value = self.target.partition(" ")
        number = float(value.split("x")[0].split()[0])
        figure = self.ratio if value.endswith("x") else self.ours
        ok = figure >= number if kind == ">=" else figure <= number
        return "yes" if ok else "NO"


def fmt(value: float) -> str:
    """Three significant digits for small figures, whole numbers for large ones."""
    if value != value:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def render_table(rows: Sequence[Row]) -> str:
    lines = ["| measure | ours | baseline | ratio | target | met | note |",
             "|---|---:|---:|---:|---|---|---|"]
    for row in rows:
        base = f"{fmt(row.baseline)} {row.unit}" if row.baseline == row.baseline else "-"
        ratio = f"{row.ratio:.2f}x" if row.ratio == row.ratio else "-"
        lines.append(f"| {row.what} | {fmt(row.ours)} {row.unit} | {base} | {ratio} | {row.target} | "
                     f"{row.met()} | {row.note} |")
    return "\n".join(lines)


def print_out(text: str, stream: TextIO = sys.stdout) -> None:
    stream.write(text + "\n")
    stream.flush()


def write_section(title: str, body: str) -> None:
    """Replace (or append) the ``## <title>`` section of RESULTS.md, leaving other sections as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    header = f"## {title}"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    block = [header, "", *body.rstrip().splitlines(), ""]
    if start is None:
        lines = [*lines, "", *block] if lines and lines[-1].strip() else [*lines, *block]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = block
    RESULTS.write_text("\n".join(lines).rstrip() + "\n")
