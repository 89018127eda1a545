"""`runner compute ...`: register the Ray clusters jobs can run on (``compute: azureml:<name>``).

    runner compute create --name ray --type ray --address http://127.0.0.2:8265 [--datastore az]
    runner compute create --file compute.yml
    runner compute list | show --name ray | delete --name ray

Azure's compute YAML (``type: amlcompute`` or ``computeinstance``, ``size``, ``min_instances``...) is taken
as ``ml_client.compute`` takes its entities (``runner.client_compute``): nothing is created or recorded, and
one note says that a job naming it runs on this machine (or on the Ray compute of that name, which stays).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from runner.cli._assets import flags_named
from runner.cli._common import client, emit, output_option, query_option_for
from runner.errors import ResolveError, SourceLocation, SpecError

if TYPE_CHECKING:
    from runner.entities_compute import AnyAzureCompute
    from runner.spec.yamlio import FieldPath

app = click.Group("compute", help="Register Ray clusters that jobs run on.", no_args_is_help=True)
query_option = query_option_for("[?type=='ray'].address")


@app.command("create")
@click.option("--file", "-f", default=None, metavar="PATH",
              help="Compute YAML (name, type: ray, address, ...).")
@click.option("--name", "-n", default=None, help="The compute's name (overrides the file's).")
@click.option("--type", "-t", "type_", default=None,
              help="ray (the only type registered; a --file of Azure's amlcompute records nothing).")
@click.option("--address", default=None, help="The Ray dashboard: http://<head>:<port>.")
@click.option("--datastore", default=None, help="Where the nodes write default outputs and artifacts "
              "(default workspaceblobstore; must not be a local folder).")
@click.option("--description", default=None, help="Description.")
@output_option("json")
@query_option
def create(file: str | None, name: str | None, type_: str | None, address: str | None,
           datastore: str | None, description: str | None, output: str, query: str | None) -> None:
    """Register (or replace) a compute.

    An existing Ray cluster, reached at its dashboard's address. Azure's compute YAML (type: amlcompute,
    computeinstance) creates and records nothing: a job naming it runs on this machine."""
    from runner.workspace.computes import compute_from_dict, read_compute_yaml  # start-up cost

    data, where = read_compute_yaml(file) if file else ({}, None)
    given: dict[str, str | None] = {"name": name, "type": type_, "address": address,
                                    "datastore": datastore, "description": description}
    if where is not None and str(type_ or data.get("type") or "").lower() in AZURE_TYPES:
        emit(_azure_compute(data, where, given), output, [], query)
        return
    if where is not None:  # the file's own problems at their lines, before the flags change it
        data = compute_from_dict(data, where=where).model_dump(by_alias=True, exclude_none=True)
    data.update({k: v for k, v in given.items() if v is not None})
    with flags_named(given, {key: f"--{key}" for key in given}):  # an error about a flag's value names it
        saved = client().compute.create_or_update(compute_from_dict(data))
    emit(saved.public_dict(), output, [], query)


AZURE_TYPES = ("amlcompute", "computeinstance")  # runner.entities_compute.AZURE_COMPUTES (not imported here)
_AZURE_FIELDS = ("name", "type", "size", "description", "tags", "location")  # and each type's settings


def _azure_compute(data: dict[str, Any], where: Callable[[FieldPath], SourceLocation],
                   given: dict[str, str | None]) -> dict[str, Any]:
    """Azure's compute YAML (``data``; ``given``: the flags) checked and taken as ``ml_client.compute``
    takes its entity: nothing created or recorded, one note on stderr; the compute as taken."""
    from runner.entities_compute import AZURE_COMPUTES, azure_compute_from_dict  # start-up cost
    from runner.spec.validation import did_you_mean

    kind = str(given["type"] or data.get("type")).lower()
    ray_only = [f"--{key}" for key in ("address", "datastore") if given[key] is not None]
    if ray_only:
        flag = ray_only[0]
        raise SpecError(f"a compute of type {kind} has no {flag[2:]} (a Ray compute's option)", field=flag,
                        hint=f"leave out {flag}, or register a Ray cluster: --type ray")
    fields = {k: v for k, v in data.items() if k != "$schema"}
    fields.update({k: v for k, v in given.items() if v is not None and k in ("name", "description")})
    fields["type"] = kind
    known = (*_AZURE_FIELDS, *AZURE_COMPUTES[kind]._SETTINGS)
    for key in fields:
        if key not in known:
            raise SpecError(f"unknown field '{key}' in a compute of type {kind}{did_you_mean(key, known)}",
                            field=key, where=where((key,)),
                            hint=f"a compute of type {kind} has: " + ", ".join(known))
    if not isinstance(fields.get("name"), str) or not fields["name"]:
        raise SpecError("a compute needs a name", field="name", where=where(()),
                        hint="add name: <compute name> (or give --name)")
    compute = azure_compute_from_dict(fields)
    assert compute is not None
    click.echo(f"warning: {_not_created(compute)}", err=True)
    return fields


def _not_created(compute: AnyAzureCompute) -> str:
    """The one note ``ml_client.compute`` logs for an Azure compute, in the CLI's words
    (``runner.jobs.compute.not_created_note``): nothing is created, and where a job naming it runs."""
    from runner.jobs.compute import not_created_note  # start-up cost: only for an Azure compute

    try:
        address: str | None = client().compute.get(str(compute.name)).address
    except ResolveError:  # none registered under that name (the usual case)
        address = None
    return not_created_note(type(compute).__name__, str(compute.name), address, python=False)


@app.command("list")
@output_option()
@query_option
def list_(output: str, query: str | None) -> None:
    """List computes."""
    rows = [c.public_dict() for c in client().compute.list()]
    emit(rows, output, ["name", "type", "address", "datastore"], query)


@app.command("show")
@click.option("--name", "-n", required=True, help="Compute name.")
@output_option()
@query_option
def show(name: str, output: str, query: str | None) -> None:
    """Show a compute, and whether its cluster answers.

    With the cluster's nodes and their resources when it answers."""
    ml_client = client()
    compute = ml_client.compute.get(name)
    data = compute.public_dict()
    data.update(ml_client.compute.cluster_state(name))
    emit(data, output, [], query)


@app.command("delete")
@click.option("--name", "-n", required=True, help="Compute name.")
def delete(name: str) -> None:
    """Forget a compute.

    The cluster, and the jobs that ran on it, are not touched."""
    client().compute.delete(name)
    click.echo(f"deleted compute '{name}' (the cluster itself was not touched)")
