"""The detached orchestrator of one queued pipeline:
``python -m runner.pipelines.worker --workspace WS NAME``.

``runner job create -f pipeline.yml`` (without ``--stream``) and ``ml_client.jobs.create_or_update`` of a
pipeline start it in its own session, so the pipeline outlives the command; ``job cancel`` of the pipeline
sends it SIGTERM (it cancels the running steps and skips the rest). Its own output goes to
``<job_dir>/runner.log``; the pipeline's log (its lines and every step's) to ``user_logs/std_log.txt``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from runner.pipelines.orchestrate import Orchestrator
from runner.workspace.db import Workspace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.pipelines.worker")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    record = Orchestrator(Workspace(args.workspace), args.name).run()
    logging.getLogger(__name__).info("pipeline %s: %s", record.name, record.status.value)
    return 0 if record.status.value == "Completed" else 1


if __name__ == "__main__":
    sys.exit(main())
