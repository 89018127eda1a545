"""A ``RunPlan`` as ``runner job validate`` and ``job create --dry-run`` print it: readable text
(``render_plan``), or data (``plan_data``: ``-o json``, ``yaml``, ``--query``). Either shows each value with
its secrets masked (``runner.url_secrets.without_secrets``): a literal input, an input's source or an
``AZUREML_EXPERIMENT_NAME`` holding ``AccountKey=...``, ``Pwd=...`` or ``sig=...`` shows ``AccountKey=***``,
and the command a literal is substituted into the same (the plan the job runs keeps the values)."""

from __future__ import annotations

from typing import Any

from runner.plan.network import plan_network
from runner.plan.types import Binding, RunPlan
from runner.url_secrets import masked_data, without_secrets


def _binding_rows(bindings: tuple[Binding, ...]) -> list[list[str]]:
    rows = [["name", "type", "mode", "kind", "source", "in the job"]]
    for b in bindings:
        target = b.value + (f"   (registers {b.registered_as})" if b.registered_as else "")
        rows.append([b.name, b.type.value, b.mode.value, b.kind.value, b.uri, target])
    return rows


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    rows = [[without_secrets(cell) for cell in row] for row in rows]  # masked before they are measured
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows]


def _network(plan: RunPlan, in_container: bool) -> str:
    return str(plan_network(plan).as_data(in_container=in_container)["description"])


def render_plan(plan: RunPlan, *, in_container: bool = True, network: str | None = None) -> str:
    """The plan as readable text (``runner job validate`` / ``job create --dry-run``); ``in_container``:
    the job runs in a container (docker), whose network it shows (``runner.plan.network``), else (the
    process backend) the host's; ``network``: the network to show instead (a job's page: the one it got,
    or will get, ``runner.jobs.stored_datastores.shown_network``)."""
    image = plan.image or "(built from the build context)"
    if plan.conda:
        image = f"(built: {plan.conda.base_image} + the packages of {plan.conda.source})"
    lines = [f"job          {plan.job_name}", f"image        {image}"]
    if plan.conda:
        python = f"python {plan.conda.python}, " if plan.conda.python else ""
        lines.append(f"conda        {python}pip: {' '.join(plan.conda.requirements) or '(none)'}")
    if plan.build_context:
        lines.append(f"build        {plan.build_context} (dockerfile: {plan.dockerfile})")
    lines += [f"working dir  {plan.working_dir}  (host: {plan.code_dir})"]
    if plan.code_source:
        lines.append(f"code         {plan.code_source}")
    limits = f"{plan.timeout_s:g} s" if plan.timeout_s else "none"
    res = plan.resources
    gpus = "all" if res.gpu_count == -1 else str(res.gpu_count)
    lines += [f"timeout      {limits}",
              f"resources    instances={res.instance_count} gpus={gpus}"
              + (f" shm_size={res.shm_size}" if res.shm_size else "")
              + (f" docker_args={' '.join(res.docker_args)}" if res.docker_args else ""),
              f"network      {network or _network(plan, in_container)}",
              "command", *("  " + line for line in plan.command.splitlines())]
    lines = [without_secrets(line) for line in lines]  # once: masking ?<query removed> again mangles it
    for title, bindings in (("inputs", plan.inputs), ("outputs", plan.outputs)):
        if bindings:
            lines += [title, *_table(_binding_rows(bindings))]
    if plan.literals:
        lines += ["literal inputs", *_table([[k, "=", v] for k, v in plan.literals.items()])]
    if plan.env:
        lines += ["environment", *_table([[k, "=", v] for k, v in sorted(plan.env.items())])]
    if plan.warnings:
        lines += ["warnings", *("  " + without_secrets(w) for w in plan.warnings)]
    return "\n".join(lines)


def plan_data(plan: RunPlan, *, in_container: bool = True) -> dict[str, Any]:
    """The plan as data (``-o json``, ``yaml``, ``--query``): ``RunPlan.to_dict`` with every string value
    masked as ``render_plan`` masks it, and the ``network`` it shows (kind, endpoints, description)."""
    data = {key: masked_data(value) for key, value in plan.to_dict().items()}
    return {**data, "network": plan_network(plan).as_data(in_container=in_container)}

