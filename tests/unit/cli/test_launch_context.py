"""The caller's context (``runner.launch.process_context``): what a forked child inherits and a
command must share with its client, how two are compared, and how it picks the server's socket."""

from __future__ import annotations

import os
import resource
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner import launch
from runner.launch import context_differences, context_key, process_context, server_paths

pytestmark = pytest.mark.skipif(not Path("/proc/self/ns/net").exists(), reason="Linux /proc only")


def differences_in_a_child(change: Callable[[], None]) -> list[str]:
    """What differs between this process's context and a forked child's after ``change`` in it."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            change()
            os.write(ready_w, b"x")
            os.read(done_r, 1)  # stay (unchanged) until the parent has read this process's context
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"x"
        theirs, ours = process_context(pid), process_context()
        assert theirs is not None and ours is not None
        return context_differences(theirs, ours)
    finally:
        os.write(done_w, b"x")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, done_r, done_w):
            os.close(fd)


def _lower_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 77), hard))


def _one_cpu() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@pytest.mark.parametrize(("change", "what"), [
    (lambda: None, []),
    (_lower_open_files, ["rlimits"]),
    (lambda: os.nice(1), ["nice"]),
    (lambda: os.umask(0o077), []),  # taken on by the command from its client, not compared
])
def test_a_forked_child_has_its_parents_context_until_it_changes_it(change: Callable[[], None],
                                                                    what: list[str]) -> None:
    assert differences_in_a_child(change) == what


def test_a_child_on_fewer_cpus_differs() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: no smaller set")
    assert differences_in_a_child(_one_cpu) == ["Cpus_allowed_list"]


def test_the_context_names_what_a_sandbox_sets() -> None:
    context = process_context()
    assert context is not None
    for name in ("net namespace", "mnt namespace", "pid namespace", "user namespace", "cgroup namespace",
                 "ipc namespace", "uts namespace", "root directory", "cgroup", "rlimits", "nice", "Uid",
                 "Gid", "Groups", "CapEff", "NoNewPrivs", "Seccomp", "Cpus_allowed_list", "oom_score_adj"):
        assert name in context
    assert context["net namespace"] == b"%d" % os.stat("/proc/self/ns/net").st_ino
    assert b"Max open files" in context["rlimits"]


def test_an_unreadable_context_is_none() -> None:
    assert process_context(2**22 + 12345) is None  # no such process: no server may be trusted with it


def test_differences_are_the_names_whose_values_differ_or_are_missing() -> None:
    client = {"net namespace": b"1", "rlimits": b"a", "nice": b"0"}
    assert context_differences(client, dict(client)) == []
    assert context_differences(client, {**client, "net namespace": b"2", "nice": b"5"}) == [
        "net namespace", "nice"]
    assert context_differences(client, {"net namespace": b"1", "rlimits": b"a"}) == ["nice"]
    assert context_differences({}, {"I/O priority": b"4"}) == ["I/O priority"]


def test_the_key_follows_the_context() -> None:
    context = {"net namespace": b"1", "rlimits": b"a"}
    assert context_key(context) == context_key(dict(reversed(context.items())))
    assert context_key(context) != context_key({**context, "net namespace": b"2"})
    assert len(context_key(context)) == 16


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="rfs-", dir="/tmp"))  # short: a socket's path is <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()


def test_another_context_has_another_socket_but_the_same_lock(runtime: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    mine = server_paths()
    context = process_context()
    assert mine is not None and context is not None
    assert mine.socket.endswith(f".{context_key(context)}.sock")
    monkeypatch.setattr(launch, "process_context", lambda pid="self": {**context, "net namespace": b"1"})
    sandboxed = server_paths()
    assert sandboxed is not None
    assert sandboxed.socket != mine.socket  # it finds no server of this context: it runs the command itself
    assert sandboxed.lock == mine.lock  # and starts none while this one runs (one server per code)
    monkeypatch.setattr(launch, "process_context", lambda pid="self": None)
    assert server_paths() is None
