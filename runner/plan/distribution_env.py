"""The variables a job's ``distribution`` gives its command, as Azure ML sets them on a node, for the one
process runner starts on this machine (``runner.spec.distribution`` checks the field and warns when more
were asked for). Pure.

    distribution_env(spec, job_name)   # {"MASTER_ADDR": "127.0.0.1", "WORLD_SIZE": "1", "RANK": "0", ...}

They describe a world of one process, which ``torch.distributed.init_process_group(init_method="env://")``,
``tf.distribute`` and an MPI-aware script take as they are:

- ``pytorch``: ``MASTER_ADDR`` (127.0.0.1), ``MASTER_PORT``, ``WORLD_SIZE`` 1, ``NODE_RANK`` 0, ``RANK`` 0,
  ``LOCAL_RANK`` 0 (how-to-train-distributed-gpu: the first four per node, the ranks per process);
- ``tensorflow``: ``TF_CONFIG``, one worker (``127.0.0.1:<port>``, task ``worker`` 0, no parameter server);
- ``mpi``: what ``mpirun`` gives a process (``OMPI_COMM_WORLD_RANK`` 0, ``OMPI_COMM_WORLD_SIZE`` 1,
  ``OMPI_COMM_WORLD_LOCAL_RANK`` 0, ``OMPI_COMM_WORLD_LOCAL_SIZE`` 1) and ``AZ_BATCHAI_MPI_MASTER_NODE``
  (127.0.0.1), the master node Azure ML names on a single node;
- ``ray``: none (ignored).

The port is the job's own (from its name, in ``MASTER_PORT_RANGE``), not a fixed one, so two jobs on the
host's network (host processes, pipeline steps running side by side) do not take the same. A value the
job's ``environment_variables`` give for one of them wins (``runner.plan.build`` sets these first).
"""

from __future__ import annotations

import hashlib
import json

from runner.spec.distribution import distribution_of
from runner.spec.job import CommandJobSpec

MASTER_ADDR = "127.0.0.1"
MASTER_PORT_RANGE = (20000, 30000)  # the job's port: in here, from its name


def master_port(job_name: str) -> int:
    """The job's port for its process group: the same on each of its plans, in ``MASTER_PORT_RANGE``."""
    low, high = MASTER_PORT_RANGE
    return low + int.from_bytes(hashlib.sha256(job_name.encode()).digest()[:4], "big") % (high - low)


def distribution_env(spec: CommandJobSpec, job_name: str) -> dict[str, str]:
    """The variables ``spec``'s ``distribution`` gives job ``job_name`` (see the module docstring)."""
    found = distribution_of(spec)
    if found is None or found.kind == "ray":
        return {}
    port = master_port(job_name)
    if found.kind == "pytorch":
        return {"MASTER_ADDR": MASTER_ADDR, "MASTER_PORT": str(port), "WORLD_SIZE": "1", "NODE_RANK": "0",
                "RANK": "0", "LOCAL_RANK": "0"}
    if found.kind == "mpi":
        return {"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_LOCAL_RANK": "0",
                "OMPI_COMM_WORLD_LOCAL_SIZE": "1", "AZ_BATCHAI_MPI_MASTER_NODE": MASTER_ADDR}
    config = {"cluster": {"worker": [f"{MASTER_ADDR}:{port}"]}, "task": {"type": "worker", "index": 0},
              "environment": "cloud"}
    return {"TF_CONFIG": json.dumps(config)}
