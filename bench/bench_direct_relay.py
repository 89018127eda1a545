"""A ``direct`` job's relayed network (``runner.backends.netns_relay``) against the host network.

    python bench/bench_direct_relay.py [--rounds 5] [--size-mib 512] [--image runner/python:3.11]
                                       [--code HEAD]

One invocation, a private fresh Azurite (loopback, so runner relays it into the job's namespace) with
one blob of ``--size-mib`` random bytes made once in container ``bench``; then ``--rounds`` rounds,
the order rotating each round, of:

* ``direct job``: ``runner job create --stream`` (``RUNNER_FORKSERVER=0``: the job runs in that process,
  so ``wait4`` gives the CPU of the process the relay thread runs in) whose command GETs the blob
  (one plain ``http.client`` GET with the endpoint and read SAS runner hands a ``direct`` input, read
  through a 1 MiB buffer) and prints the read's own seconds;
* ``docker run --network host``: the same image and command, the same variable (the old way: no relay);
* ``trivial direct job``: the same job reading nothing (its direct input is only named): holder + relay;
* ``trivial job, no direct input``: the same without the input (``network none``, no holder, no relay);
* ``trivial docker run --network host``.

Prints medians and ranges (min-max), and the runner's CPU per GiB relayed: (CPU of a big direct job -
CPU of a trivial direct job) / GiB, both the whole ``runner job create`` process, and the same for the
relay thread alone (``ThreadCpu``: every thread but the main one sampled from ``/proc`` every 20 ms).
The trivial pair's difference is the holder and relay plus the direct input's own resolution (its SAS):
the job record's ``timings_s`` tells them apart. Our side runs from a
``git archive`` of ``--code`` (``worktree`` for the working tree).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ACCOUNT,
    CODE,
    KEY,
    Azurite,
    Child,
    Cleanup,
    MiB,
    account_sas,
    machine_info,
    median,
    use_code,
    write_random_file,
)

BLOB = "relay/big.bin"
# the job's command: one plain GET with the endpoint and read SAS runner hands a direct input
READER = r'''
import http.client, json, os, sys, time, urllib.parse
url = sys.argv[1]
if url == "-":
    print("READ " + json.dumps({"bytes": 0}), flush=True)
    sys.exit(0)
container, blob = url.split("://", 1)[1].split("/", 1)
endpoint = urllib.parse.urlsplit(os.environ["AZURE_STORAGE_BLOB_ENDPOINT"])
started = time.perf_counter()
conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=60)
conn.request("GET", f"{endpoint.path.rstrip('/')}/{container.split('@')[0]}/{urllib.parse.quote(blob)}?"
             + os.environ["AZURE_STORAGE_SAS_TOKEN"])
response = conn.getresponse()
assert response.status == 200, response.status
buf, total = memoryview(bytearray(1 << 20)), 0
while count := response.readinto(buf):
    total += count
seconds = time.perf_counter() - started
print("READ " + json.dumps({"bytes": total, "seconds": seconds}), flush=True)
'''


def make_blob(azurite: Azurite, work: Path, size: int) -> None:
    """The blob, made once (random bytes written to a temp file in chunks, then uploaded from it)."""
    from azure.storage.blob import ContainerClient

    local = work / "big.bin"
    write_random_file(local, size)
    container = ContainerClient.from_connection_string(azurite.connection_string, "bench")
    container.create_container()
    with open(local, "rb") as handle:
        container.upload_blob(BLOB, handle, length=size, max_concurrency=4)
    local.unlink()


def write_files(work: Path, azurite: Azurite, image: str) -> dict[str, Path]:
    src = work / "src"
    src.mkdir()
    (src / "read.py").write_text(READER)
    (work / "datastore.yml").write_text(
        f"name: az\ntype: azure_blob\naccount_name: {ACCOUNT}\ncontainer_name: bench\n"
        f"account_url: {azurite.endpoint}\ncredentials:\n  account_key: {KEY}\n")
    jobs = {}
    direct_input = ("inputs:\n  d: {type: uri_file, mode: direct, "
                    f'path: "azureml://datastores/az/paths/{BLOB}"}}\n')
    for name, command, inputs in (("big", "python read.py ${{inputs.d}}", direct_input),
                                  ("trivial", "python read.py - ${{inputs.d}}", direct_input),
                                  ("plain", "python read.py -", "")):
        jobs[name] = work / f"{name}.yml"
        jobs[name].write_text(f"command: {command}\ncode: ./src\n{inputs}"
                              f"environment:\n  image: {image}\n")
    return jobs


class ThreadCpu:
    """Samples, every 20 ms while ``pid`` lives, the CPU (user + system) of each of its threads but the
    main one; ``busiest`` is the largest last sample: in a job with a relay, the relay thread's CPU (it
    ends with the job: at most one interval of it is missed)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.seen = pid, {}  # type: ignore[var-annotated]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while os.path.exists(f"/proc/{self.pid}/task"):
            with contextlib.suppress(OSError):
                for tid in os.listdir(f"/proc/{self.pid}/task"):
                    if int(tid) != self.pid:
                        with contextlib.suppress(OSError, IndexError):
                            fields = Path(f"/proc/{self.pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1]
                            utime, stime = fields.split()[11:13]
                            self.seen[tid] = (int(utime) + int(stime)) / tick
            time.sleep(0.02)

    def busiest(self) -> float:
        self._thread.join(5)
        return max(self.seen.values(), default=0.0)


def read_figures(stdout: str) -> dict[str, float]:
    lines = [line for line in stdout.splitlines() if line.startswith("READ ")]
    if not lines:
        raise RuntimeError(f"the command printed no READ line: {stdout[-2000:]}")
    return dict(json.loads(lines[-1][len("READ "):]))


class Bench:
    def __init__(self, work: Path, azurite: Azurite, image: str, cleanup: Cleanup) -> None:
        self.work, self.azurite, self.image, self.cleanup = work, azurite, image, cleanup
        self.jobs = write_files(work, azurite, image)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
        self.env = {**env, "PYTHONPATH": str(CODE.root), "RUNNER_FORKSERVER": "0"}
        self.runner = [sys.executable, "-m", "runner", "--workspace", str(work / "ws")]
        self.count = 0
        subprocess.run([*self.runner, "datastore", "create", "--file", str(work / "datastore.yml")],
                       check=True, env=self.env, cwd=CODE.root, capture_output=True)
        self.store_env = {"AZURE_STORAGE_BLOB_ENDPOINT": azurite.endpoint,
                          "AZURE_STORAGE_SAS_TOKEN": account_sas()}  # Azurite's public key: no secret
        self.url = f"abfs://bench/{BLOB}"

    def job(self, kind: str) -> tuple[float, float, dict[str, float]]:
        """(wall seconds, CPU of the runner process, the command's READ figures) of one job."""
        self.count += 1
        name = f"{kind}{self.count}"
        child = Child([*self.runner, "job", "create", "--file", str(self.jobs[kind]), "--stream",
                       "--name", name], self.cleanup, env=self.env)
        threads = ThreadCpu(child.proc.pid)
        result = child.finish(600)
        busiest = threads.busiest()
        if result.returncode != 0:
            raise RuntimeError(f"job {name} failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
        return result.seconds, result.cpu_s, {**read_figures(result.stdout), "thread_cpu": busiest}

    def docker_run(self, url: str) -> tuple[float, float, dict[str, float]]:
        """The same command in ``docker run --rm --network host`` (its variable passed by name)."""
        argv = [shutil.which("docker") or "docker", "run", "--rm", "--network", "host",
                "-e", "AZURE_STORAGE_BLOB_ENDPOINT", "-e", "AZURE_STORAGE_SAS_TOKEN",
                "-v", f"{self.work / 'src'}:/src:ro", "-w", "/src",
                self.image, "python", "read.py", url]
        result = Child(argv, self.cleanup, env=self.store_env).finish(600)
        if result.returncode != 0:
            raise RuntimeError(f"docker run failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
        return result.seconds, result.cpu_s, read_figures(result.stdout)

    def network(self, name: str) -> str:
        """The network a job had, from its record (the bench measures the relay: it checks it was one)."""
        raw = subprocess.run([*self.runner, "job", "show", "--name", name, "-o", "json"], check=True,
                             capture_output=True, text=True, env=self.env, cwd=CODE.root).stdout
        return str(json.loads(raw).get("extra", {}).get("network", "?"))


KINDS = ("direct job", "docker run --network host", "trivial direct job", "trivial job, no direct input",
         "trivial docker run --network host")


def run(rounds: int, size: int, image: str, code: str) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": [], "read": [], "thread": []}
                                                  for k in KINDS}
    with Cleanup() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="bench-relay-"))
        cleanup.push(lambda: shutil.rmtree(work, ignore_errors=True))
        label = use_code(code, work / "code", ("runner", "mounts", "bin"))
        azurite = Azurite(work / "azurite", cleanup)
        azurite.start()
        make_blob(azurite, work, size)
        bench = Bench(work, azurite, image, cleanup)
        steps = {
            KINDS[0]: lambda: bench.job("big"),
            KINDS[1]: lambda: bench.docker_run(bench.url),
            KINDS[2]: lambda: bench.job("trivial"),
            KINDS[3]: lambda: bench.job("plain"),
            KINDS[4]: lambda: bench.docker_run("-"),
        }
        for step in steps.values():  # untimed warm-up of each
            step()
        network = bench.network(f"big{bench.count - 2}")
        if "relay" not in network:
            raise RuntimeError(f"the direct job was not relayed: {network}")
        print(f"direct job's network: {network}", file=sys.stderr)
        for i in range(rounds):
            order = list(KINDS[i % len(KINDS):] + KINDS[:i % len(KINDS)])
            for kind in order:
                wall, cpu, read = steps[kind]()
                figures[kind]["wall"].append(wall)
                figures[kind]["cpu"].append(cpu)
                if "thread_cpu" in read:
                    figures[kind]["thread"].append(read["thread_cpu"])
                if read.get("bytes"):
                    if read["bytes"] != size:
                        raise RuntimeError(f"{kind} read {read['bytes']} bytes, not {size}")
                    figures[kind]["read"].append(size / read["seconds"] / 1e6)
        print(f"our code: {label}", file=sys.stderr)
    return figures


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return "-"
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def report(figures: dict[str, dict[str, list[float]]], rounds: int, size: int, image: str) -> str:
    info = machine_info()
    lines = [f"## Direct job, relayed network ({size // MiB} MiB read)", "",
             f"{info['date']}, {info['nproc']} cores, {info['cpu']}, Python {info['python']}, "
             f"Azurite {info['azurite']}; `python bench/bench_direct_relay.py --rounds {rounds} "
             f"--size-mib {size // MiB}`; image `{image}`; medians (min-max) of {rounds} rotated rounds; "
             f"load {info['load']}.", "",
             "| run | wall s | read MB/s (in the command) | CPU s (runner process / docker CLI) "
             "| CPU s, busiest runner thread but main |",
             "|---|---:|---:|---:|---:|"]
    for kind in KINDS:
        f = figures[kind]
        lines.append(f"| {kind} | {spread(f['wall'])} | {spread(f['read'], 0)} | {spread(f['cpu'])} "
                     f"| {spread(f['thread'])} |")
    big, trivial = figures[KINDS[0]], figures[KINDS[2]]
    gib = size / (1 << 30)
    per_gib = [(b - t) / gib for b, t in zip(big["cpu"], trivial["cpu"], strict=True)]
    extra = [b - d for b, d in zip(big["wall"], figures[KINDS[1]]["wall"], strict=True)]
    start = [t - p for t, p in zip(trivial["wall"], figures[KINDS[3]]["wall"], strict=True)]
    relay = [(b - t) / gib for b, t in zip(big["thread"], trivial["thread"], strict=True)]
    lines += ["",
              f"- relay thread CPU per GiB relayed (its sampled CPU, big - trivial): {spread(relay)} s",
              f"- runner CPU per GiB relayed (big - trivial direct job, same round): {spread(per_gib)} s",
              f"- direct job - docker run --network host (same round): {spread(extra)} s",
              f"- trivial: relayed - no direct input (holder + relay, same round): {spread(start)} s", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--image", default="runner/python:3.11")
    parser.add_argument("--code", default="HEAD", help="git revision to measure, or 'worktree'")
    args = parser.parse_args()
    size = args.size_mib * MiB
    started = time.perf_counter()
    figures = run(args.rounds, size, args.image, args.code)
    print(report(figures, args.rounds, size, args.image))
    print(f"(took {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
