"""`runner compute ...`: register the Ray clusters jobs can run on (``compute: azureml:<name>``).

    runner compute create --name ray --type ray --address http://127.0.0.2:8265 [--datastore az]
    runner compute create --file compute.yml
    runner compute list | show --name ray | delete --name ray
"""

from __future__ import annotations

from typing import Any

import typer

from runner.cli._common import OUTPUT, QUERY, OutputFormat, client, emit, output_option

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    file: str = typer.Option(None, "--file", "-f", help="Compute YAML (name, type: ray, address, ...)."),
    name: str = typer.Option(None, "--name", "-n", help="The compute's name (overrides the file's)."),
    type_: str = typer.Option(None, "--type", "-t", help="ray (the only type)."),
    address: str = typer.Option(None, "--address", help="The Ray dashboard: http://<head>:<port>."),
    datastore: str = typer.Option(None, "--datastore",
                                  help="Where the nodes write default outputs and artifacts "
                                       "(default workspaceblobstore; must not be a local folder)."),
    description: str = typer.Option(None, "--description"),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
) -> None:
    """Register (or replace) a compute: an existing Ray cluster, reached at its dashboard's address."""
    from runner.workspace.computes import compute_from_dict, load_compute  # start-up cost

    data: dict[str, Any] = load_compute(file).model_dump(by_alias=True, exclude_none=True) if file else {}
    given = {"name": name, "type": type_, "address": address, "datastore": datastore,
             "description": description}
    data.update({k: v for k, v in given.items() if v is not None})
    saved = client().compute.create_or_update(compute_from_dict(data))
    emit(saved.public_dict(), output, [], query)


@app.command("list")
def list_(output: OutputFormat = OUTPUT, query: str = QUERY) -> None:
    """List computes."""
    rows = [c.public_dict() for c in client().compute.list()]
    emit(rows, output, ["name", "type", "address", "datastore"], query)


@app.command("show")
def show(name: str = typer.Option(..., "--name", "-n", help="Compute name."),
         output: OutputFormat = OUTPUT, query: str = QUERY) -> None:
    """Show a compute, and whether its cluster answers (its nodes and their resources)."""
    ml_client = client()
    compute = ml_client.compute.get(name)
    data = compute.public_dict()
    data.update(ml_client.compute.cluster_state(name))
    emit(data, output, [], query)


@app.command("delete")
def delete(name: str = typer.Option(..., "--name", "-n", help="Compute name.")) -> None:
    """Forget a compute (the cluster and the jobs that ran on it are not touched)."""
    client().compute.delete(name)
    typer.echo(f"deleted compute '{name}' (the cluster itself was not touched)")
