"""A Ray Job's entrypoint on the node Ray picked: ``python -m runner.jobs.node <job package folder>``.

runner itself runs the planned job here, with the docker backend, exactly as ``job create`` would on the
submitting machine (``runner.jobs.run.run_job``: materialize, run the container, finalize the outputs),
in a throw-away workspace of its own (the workspace database never leaves the submitting side):

- the job package (``runner.jobs.ray_package``) holds the stored plan, the code snapshot, the build
  context and the datastore configs the job needs (credentials included; saved owner-only here), and the
  values of its secret ``environment_variables`` (kept in this workspace's secrets folder for the run);
- the compute's datastore is also this workspace's ``workspaceblobstore``, so the job's artifacts land
  where the submitting side recorded them;
- the plan is re-rooted from the submitting side's job folder to this one (and the result's staged
  paths back); its output registrations are dropped (the submitting side registers them, with lineage,
  in its own registry);
- the workspace is removed once the result is written; what a job that did not complete left staged
  (held back, not uploaded) is first moved into a keep folder of its own in the node dir, which the
  result names (``runner.jobs.node_keep``);
- the GPUs Ray assigned (``CUDA_VISIBLE_DEVICES``) become the container's device requests.

The job's output goes to stdout (Ray's job log, which the follower streams); runner's own log to a file
that is uploaded with the result record (``result.json``) to the compute's datastore: never parsed out of
Ray's log, which mixes stdout and stderr. Ray's stop sends SIGTERM: before the run, that ends here with a
Canceled result; during it, the run stops the container (grace period) and finalizes the outputs.
The exit code is the job's: 0 Completed, the command's code (or 1) Failed, 143 Canceled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from runner.errors import RunnerError
from runner.jobs.node_keep import keep_staged
from runner.jobs.ray_package import PAYLOAD, find_job_folder, write_control
from runner.jobs.run import run_job
from runner.plan.stored import plan_from_dict
from runner.plan.types import Resources, RunPlan
from runner.workspace.code_tree import copy_code_tree
from runner.workspace.datastores import DatastoreStore, datastore_from_dict
from runner.workspace.db import DEFAULT_DATASTORE, JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.job_secrets import keep
from runner.workspace.trees import remove_tree
from runner.workspace.upload_state import NOT_DURABLE_KEY

log = logging.getLogger(__name__)

NODE_DIR_ENV = "RUNNER_NODE_DIR"  # where node workspaces go (default: the temp folder)
RESULT = "result.json"
NODE_LOG = "runner.log"
EXIT_CANCELED = 143


class StoppedEarly(BaseException):  # noqa: N818 - a control-flow signal, like KeyboardInterrupt
    """SIGTERM before the run took over the signals."""


def _stop_early(_signum: int, _frame: FrameType | None) -> None:
    raise StoppedEarly()


def reroot(data: Any, old: str, new: str) -> Any:
    """Every string in a stored plan with the submitting side's job folder replaced by this one's."""
    if isinstance(data, str):
        return data.replace(old, new)
    if isinstance(data, list):
        return [reroot(item, old, new) for item in data]
    if isinstance(data, dict):
        return {key: reroot(value, old, new) for key, value in data.items()}
    return data


def node_plan(payload: dict[str, Any], job_dir: Path, package: Path, env: dict[str, str]) -> RunPlan:
    """The plan as this node runs it (pure): re-rooted, no registrations, the build context from the
    package, the GPUs Ray assigned."""
    plan = plan_from_dict(reroot(payload["plan"], payload["submit_job_dir"], str(job_dir)))
    plan = replace(plan, outputs=tuple(replace(b, registered_as=None) for b in plan.outputs))
    if plan.build_context:
        plan = replace(plan, build_context=str(package / "build"))
    visible = env.get("CUDA_VISIBLE_DEVICES", "").strip()
    if plan.resources.gpu_count and visible:
        ids = tuple(i.strip() for i in visible.split(",") if i.strip())
        plan = replace(plan, resources=replace(plan.resources, gpu_ids=ids))
    assert isinstance(plan.resources, Resources)
    return plan


def node_workspace(root: Path, payload: dict[str, Any]) -> Workspace:
    """A workspace with the job's datastores; the compute's datastore is also its default one."""
    ws = Workspace(root)
    store = DatastoreStore(ws)
    for config in payload["datastores"]:
        store.save(datastore_from_dict(config))
        if config["name"] == payload["default_datastore"]:
            store.save(datastore_from_dict({**config, "name": DEFAULT_DATASTORE}))
    return ws


def _queue(ws: Workspace, payload: dict[str, Any], package: Path) -> str:
    job = payload["job"]
    job_dir = ws.job_dir(job["name"])
    plan = node_plan(payload, job_dir.root, package, dict(os.environ))
    if (package / "code").is_dir():  # any depth, no recursion; as packaged (no ignore); bad entries refused
        copy_code_tree(package / "code", job_dir.code, field="code", dirs_exist_ok=True)
    job_dir.make_code_dirs()
    ws.create_job(JobRecord(name=job["name"], experiment_name=job.get("experiment_name"),
                            display_name=job.get("display_name"), backend="docker", job_dir=str(job_dir),
                            runner_pid=os.getpid(), image=plan.image or None,
                            inputs={b.name: b.uri for b in plan.inputs},
                            outputs={b.name: b.uri for b in plan.outputs},
                            extra={"plan": plan.to_dict(), "status_times": {
                                JobStatus.QUEUED.value: utc_text(utcnow())}}))
    keep(ws, job["name"], payload.get("secret_env") or {})  # its secret values, for the run to take
    return str(job["name"])


def result_of(record: JobRecord) -> dict[str, Any]:
    """What the submitting side records from the node (never the plan or the datastores); ``warnings``:
    what the run recorded (what its outputs could not keep), merged there after the plan's; the outputs
    that could not be made durable (``NOT_DURABLE_KEY``), as the follower records them; ``network``: the
    network the container got on the node, and why (relayed, or the host's network with a warning)."""
    data = record.model_dump(mode="json", include={
        "status", "exit_code", "error", "started_at", "ended_at", "image", "image_id", "container_id",
        "outputs_partial"})
    data["extra"] = {k: v for k, v in record.extra.items()
                     if k in ("status_times", "timings_s", "late_cancel", "held_back_outputs",
                              "held_back_why", "warnings", "network", NOT_DURABLE_KEY)}
    data["node"] = socket.gethostname()
    return data


def staged_rerooted(result: dict[str, Any], job_dir: str, submit_job_dir: str) -> dict[str, Any]:
    """The result with its staged paths (held back, not made durable) re-rooted from this node's job folder
    to the submitting side's, as ``node_plan`` re-rooted the plan the other way: the follower keeps only
    paths in the job's own staging folder there (``runner.jobs.ray_result.keep_own_staged``)."""
    extra = {key: reroot(value, job_dir, submit_job_dir) if key in ("held_back_outputs", NOT_DURABLE_KEY)
             else value for key, value in result.get("extra", {}).items()}
    return {**result, "extra": extra}


def submitted_side(ws: Workspace, payload: dict[str, Any], result: dict[str, Any], node_dir: Path
                   ) -> dict[str, Any]:
    """The result as it is sent: the staged data of a job that did not complete kept on this node (moved
    out of the workspace that is removed: ``runner.jobs.node_keep``), its staged paths re-rooted."""
    job_dir = ws.job_dir(payload["job"]["name"])
    result = keep_staged(result, job_dir.outputs, node_dir, payload["job"]["name"])
    return staged_rerooted(result, str(job_dir.root), payload["submit_job_dir"])


def exit_code_of(result: dict[str, Any]) -> int:
    status = result.get("status")
    if status == JobStatus.COMPLETED.value:
        return 0
    if status == JobStatus.CANCELED.value:
        return EXIT_CANCELED
    code = result.get("exit_code")
    return code if isinstance(code, int) and code > 0 else 1


def _stdout(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def run_here(root: Path, payload: dict[str, Any], package: Path) -> tuple[Workspace | None, dict[str, Any]]:
    """Run the job in a workspace under ``root``; (the workspace, the result: its paths this node's)."""
    ws: Workspace | None = None
    try:
        ws = node_workspace(root / "ws", payload)
        name = _queue(ws, payload, package)
        record = run_job(ws, name, echo=_stdout, quiet=True, node=socket.gethostname())
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the result is being written: nothing to stop
        return ws, result_of(record)
    except StoppedEarly:
        return ws, {"status": JobStatus.CANCELED.value, "ended_at": utc_text(utcnow()), "node":
                    socket.gethostname(), "error": "canceled before the job started on the node"}
    except RunnerError as exc:  # one clear error (a secrets file that cannot be kept): no traceback
        error = f"runner on node {socket.gethostname()} failed: {exc.render()}"
        log.error("%s", error)
        print(error, file=sys.stderr, flush=True)
        return ws, {"status": JobStatus.FAILED.value, "ended_at": utc_text(utcnow()), "node":
                    socket.gethostname(), "error": error}
    except Exception as exc:  # noqa: BLE001 - whatever it was, the submitting side must learn of it
        log.exception("the node's runner failed")
        error = f"runner on node {socket.gethostname()} failed: {type(exc).__name__}: {exc}"
        print(error, file=sys.stderr, flush=True)  # in Ray's job log too, should no result get through
        return ws, {"status": JobStatus.FAILED.value, "ended_at": utc_text(utcnow()), "node":
                    socket.gethostname(), "error": error}


def _cleanup(root: Path) -> None:
    """Remove the node workspace (its job folder and the datastore credentials), unless something is
    still mounted under it (never delete through a mount): any depth, no link followed, never raises."""
    prefix = str(root.resolve()) + "/"
    with open("/proc/mounts") as mounts:
        if any(line.split()[1].startswith(prefix) for line in mounts):
            log.warning("something is still mounted under %s; leaving it", root)
            return
    remove_tree(root)  # a job's tree may nest deeper than Python's recursion limit


def node_log_handler(path: Path) -> logging.FileHandler:
    """The node's log file (UTF-8): a line holding a character UTF-8 cannot encode (a lone surrogate from
    a file name that is not valid UTF-8, if one was logged as it is) is kept, with it escaped, not dropped."""
    handler = logging.FileHandler(path, encoding="utf-8", errors="backslashreplace")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.jobs.node")
    parser.add_argument("package", help="the job package's folder name (a runtime_env py_modules entry)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_early)
    search = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p] + sys.path
    package = find_job_folder(args.package, search)
    payload = json.loads((package / PAYLOAD).read_text())
    base = Path(os.environ.get(NODE_DIR_ENV) or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"runner-ray-{payload['job']['name']}-", dir=base))
    handler = node_log_handler(root / NODE_LOG)
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("azure").setLevel(logging.WARNING)  # every HTTP request at INFO otherwise
    log.info("job %s on node %s, workspace %s", payload["job"]["name"], socket.gethostname(), root)
    try:
        ws, result = run_here(root, payload, package)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is over: what it staged is kept, not cut
        if ws is not None:
            result = submitted_side(ws, payload, result, base)
        code = exit_code_of(result)
        if ws is not None:
            with contextlib.suppress(Exception):  # the log is a courtesy; the result is not
                write_control(ws, payload["control"], NODE_LOG, root / NODE_LOG)
            write_control(ws, payload["control"], RESULT, json.dumps(result).encode())
        return code
    finally:
        handler.close()
        _cleanup(root)


if __name__ == "__main__":
    sys.exit(main())
