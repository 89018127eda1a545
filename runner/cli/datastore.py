"""`runner datastore ...` commands. Secrets are never printed (``show`` redacts them)."""

from __future__ import annotations

import click

from runner.cli._common import OutputFormat, client, emit, output_option, query_option_for

app = click.Group("datastore", help="Manage datastores.", no_args_is_help=True)
query_option = query_option_for("[?type=='azure_blob'].name")


@app.command("create")
@click.option("--file", "-f", required=True, metavar="PATH",
              help="Datastore YAML (Azure ML datastore fields).")
@click.option("--name", "-n", default=None, help="Override the name in the file.")
@output_option("json")
@query_option
def create(file: str, name: str | None, output: str, query: str | None) -> None:
    """Create (or replace) a datastore.

    A local folder, an azure_blob container, an azure_data_lake_gen2 filesystem or an fsspec URL."""
    from runner.workspace.datastores import load_datastore, public_dict  # start-up cost

    datastore = load_datastore(file)
    if name:
        datastore = datastore.model_copy(update={"name": name})
    saved = client().datastores.create_or_update(datastore)
    emit(public_dict(saved), output, [], query)


@app.command("list")
@output_option()
@query_option
def list_(output: str, query: str | None) -> None:
    """List datastores."""
    from runner.workspace.datastores import credential_kind, public_dict  # start-up cost

    datastores = list(client().datastores.list())
    if output != OutputFormat.table or query is not None:  # the data -o json prints
        emit([public_dict(ds) for ds in datastores], output, [], query)
        return
    rows = [{**public_dict(ds), "location": _location(public_dict(ds)), "credentials": credential_kind(ds)}
            for ds in datastores]
    emit(rows, output, ["name", "type", "location", "credentials"])


@app.command("show")
@click.option("--name", "-n", required=True, help="Datastore name.")
@output_option()
@query_option
def show(name: str, output: str, query: str | None) -> None:
    """Show a datastore (secrets redacted)."""
    from runner.workspace.datastores import public_dict  # start-up cost: imported by the command that uses it

    emit(public_dict(client().datastores.get(name)), output, [], query)


@app.command("delete")
@click.option("--name", "-n", required=True, help="Datastore name.")
def delete(name: str) -> None:
    """Delete a datastore's registration (its data is not touched)."""
    client().datastores.delete(name)
    click.echo(f"deleted datastore '{name}' (its data was not touched)")


def _location(data: dict[str, object]) -> str:
    kind = data.get("type")
    if kind == "local":
        return str(data.get("path", ""))
    if kind == "fsspec":
        return str(data.get("url", ""))
    container = data.get("container_name") or data.get("filesystem")
    where = data.get("account_url") or data.get("account_name") or ""
    return f"{where}/{container}"
