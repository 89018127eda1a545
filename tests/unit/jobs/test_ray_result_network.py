"""The network a job's container got on a Ray node, and why (``extra.network``: "relayed to
127.0.0.1:10000 only: ...", or the host's network with a warning when the node cannot relay), reaches the
job's record as on one machine: the node sends it (``result_of``), the follower keeps it when it is text
(``node_result``) and drops anything else with the other unknown shapes."""

from __future__ import annotations

import json

from runner.jobs.node import result_of
from runner.jobs.ray_result import node_result
from runner.workspace.db import JobRecord, JobStatus

RELAYED = "relayed to 127.0.0.1:10000 only: a direct binding's store is on loopback; no other network"


def test_the_node_sends_the_network_and_the_follower_keeps_it() -> None:
    record = JobRecord(name="j1", status=JobStatus.COMPLETED, backend="docker", job_dir="/nowhere",
                       extra={"network": RELAYED, "plan": {"secret": "no"}})
    sent = result_of(record)
    assert sent["extra"] == {"network": RELAYED}  # never the plan
    kept, dropped = node_result(json.dumps(sent).encode())
    assert kept["extra"] == {"network": RELAYED} and dropped == []


def test_a_network_that_is_no_text_is_dropped() -> None:
    kept, dropped = node_result(json.dumps({"status": "Completed", "extra": {"network": {"mode": "host"}}})
                                .encode())
    assert "network" not in kept["extra"] and dropped == ["extra.network"]
