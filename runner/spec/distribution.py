"""A job's ``distribution``, checked, and what it asks for that one machine does not give: the warnings
``runner.spec.load.check_spec`` adds. The variables it gives the job are ``runner.plan.distribution_env``'s.

    distribution_of(spec)        # Distribution("pytorch", process_count_per_instance=2), or None
    distribution_warnings(spec)  # ["job.yml:5:1: distribution (pytorch) asks for 2 process(es) ..."]

The type is azure.ai.ml's (``pytorch``, ``mpi``, ``tensorflow``, ``ray``; any case, as it reads ``PyTorch``)
and the fields its type's (``runner.spec.job_settings.DISTRIBUTION_FIELDS``); another type, a field its type
has not (``process_count``, v1's ``process_count_per_node``), or a count that is not a whole number is one
``SpecError`` at its line. Azure ML starts ``process_count_per_instance`` processes on each of
``resources.instance_count`` nodes, TensorFlow's ``worker_count`` workers (by default one per instance) and
``parameter_server_count`` parameter servers; runner starts one process, which the variables describe, and
says so once when more were asked for (the job runs as written, as with ``resources.instance_count``). A
``ray`` distribution is ignored, with a warning (a job on a registered Ray compute runs on its cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.errors import SpecError
from runner.spec.job import CommandJobSpec
from runner.spec.job_settings import DISTRIBUTION_FIELDS
from runner.spec.validation import did_you_mean

FIELD = "distribution"
_COUNTS = (("process_count_per_instance", 1), ("worker_count", 1), ("parameter_server_count", 0))


@dataclass(frozen=True)
class Distribution:
    """A checked ``distribution``: its type (lower case) and counts (None: not given)."""

    kind: str
    process_count_per_instance: int | None = None
    worker_count: int | None = None
    parameter_server_count: int | None = None


def distribution_of(spec: CommandJobSpec) -> Distribution | None:
    """``spec``'s ``distribution``, checked (one ``SpecError`` at its line); None when it has none."""
    given = spec.distribution
    if given is None:
        return None
    kind = str(given.get("type") or "").lower()
    if kind not in DISTRIBUTION_FIELDS:
        name, where = spec.field_location(FIELD, "type") if "type" in given else spec.field_location(FIELD)
        what = f"type '{given['type']}' is not one Azure ML has" if "type" in given else "has no type"
        raise SpecError(f"the distribution {what}", field=name, where=where,
                        hint=f"write type: one of {', '.join(DISTRIBUTION_FIELDS)} (pytorch for "
                             "torch.distributed)")
    known = DISTRIBUTION_FIELDS[kind]
    for key in given:
        if key != "type" and key not in known:
            name, where = spec.field_location(FIELD, key)
            raise SpecError(f"a {kind} distribution has no field '{key}'{did_you_mean(key, known)}",
                            field=name, where=where, hint=f"its fields: type, {', '.join(known)}")
    return Distribution(kind, **{key: _count(spec, given, key, least) for key, least in _COUNTS
                                 if key in known})


def _count(spec: CommandJobSpec, given: dict[str, Any], key: str, least: int) -> int | None:
    value = given.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        name, where = spec.field_location(FIELD, key)
        raise SpecError(f"{key} {value!r} is not a count of {least} or more", field=name, where=where,
                        hint=f"write a whole number, {least} or more")
    return value


def distribution_warnings(spec: CommandJobSpec) -> list[str]:
    """What the checked ``distribution`` asks for that runner does not start, each said once (none for
    one process)."""
    found = distribution_of(spec)
    if found is None:
        return []
    at = f"{spec.where(FIELD)}: {spec.field_name(FIELD)}"
    instances = spec.resources.instance_count
    if found.kind == "ray":
        return [f"{at} of type ray is ignored (a job on a registered Ray compute runs on its cluster)"]
    if found.kind == "tensorflow":
        workers, servers = found.worker_count or instances, found.parameter_server_count or 0
        if workers == 1 and servers == 0:
            return []
        return [f"{at} (tensorflow) asks for {workers} worker(s) and {servers} parameter server(s); runner "
                "starts one worker on this machine (TF_CONFIG names it alone)"]
    per_instance = found.process_count_per_instance or 1
    if per_instance * instances == 1:
        return []
    shown = "WORLD_SIZE=1, RANK=0" if found.kind == "pytorch" else \
        "OMPI_COMM_WORLD_SIZE=1, OMPI_COMM_WORLD_RANK=0"
    return [f"{at} ({found.kind}) asks for {per_instance} process(es) on each of {instances} instance(s); "
            f"runner starts one process on this machine ({shown}), where Azure ML would start "
            f"{per_instance * instances}"]
