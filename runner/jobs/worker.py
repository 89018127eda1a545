"""The detached worker that runs one queued job: ``python -m runner.jobs.worker --workspace WS NAME``.

``runner job create`` (without ``--stream``) and ``MLClient.jobs.create_or_update`` start it in its own
session so the job outlives the command; ``job cancel`` sends it SIGTERM. For a job on a Ray compute it
follows the Ray job instead (``runner.jobs.ray_follow``); the run happens on the node. Its own output goes to
``<job_dir>/runner.log``; the job's output to ``<job_dir>/user_logs/std_log.txt``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from runner.jobs.recovery import follows_ray
from runner.jobs.run import run_job
from runner.workspace.db import Workspace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.jobs.worker")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--no-upload-on-failure", action="store_true")
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # not every HTTP request of a datastore
    ws = Workspace(args.workspace)
    if follows_ray(ws.get_job(args.name)):  # it runs on a Ray cluster: follow it there
        from runner.jobs.ray_follow import follow_ray_job  # start-up cost: only for Ray jobs

        record = follow_ray_job(ws, args.name)
    else:
        record = run_job(ws, args.name, upload_on_failure=not args.no_upload_on_failure)
    logging.getLogger(__name__).info("job %s: %s", record.name, record.status.value)
    return 0 if record.status.value == "Completed" else 1


if __name__ == "__main__":
    sys.exit(main())
