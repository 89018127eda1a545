"""`runner datastore ...` commands. Secrets are never printed (``show`` redacts them)."""

from __future__ import annotations

import typer

from runner.cli._common import OUTPUT, QUERY, OutputFormat, client, emit, output_option

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    file: str = typer.Option(..., "--file", "-f", help="Datastore YAML (Azure ML datastore fields)."),
    name: str = typer.Option(None, "--name", "-n", help="Override the name in the file."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
) -> None:
    """Create (or replace) a datastore: local folder, azure_blob, azure_data_lake_gen2 or fsspec URL."""
    from runner.workspace.datastores import load_datastore, public_dict  # start-up cost

    datastore = load_datastore(file)
    if name:
        datastore = datastore.model_copy(update={"name": name})
    saved = client().datastores.create_or_update(datastore)
    emit(public_dict(saved), output, [], query)


@app.command("list")
def list_(output: OutputFormat = OUTPUT, query: str = QUERY) -> None:
    """List datastores."""
    from runner.workspace.datastores import credential_kind, public_dict  # start-up cost

    datastores = list(client().datastores.list())
    if output is not OutputFormat.table or query is not None:  # the data -o json prints
        emit([public_dict(ds) for ds in datastores], output, [], query)
        return
    rows = [{**public_dict(ds), "location": _location(public_dict(ds)), "credentials": credential_kind(ds)}
            for ds in datastores]
    emit(rows, output, ["name", "type", "location", "credentials"])


@app.command("show")
def show(
    name: str = typer.Option(..., "--name", "-n", help="Datastore name."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
) -> None:
    """Show a datastore (secrets redacted)."""
    from runner.workspace.datastores import public_dict  # start-up cost: imported by the command that uses it

    emit(public_dict(client().datastores.get(name)), output, [], query)


@app.command("delete")
def delete(name: str = typer.Option(..., "--name", "-n", help="Datastore name.")) -> None:
    """Delete a datastore's registration (its data is not touched)."""
    client().datastores.delete(name)
    typer.echo(f"deleted datastore '{name}' (its data was not touched)")


def _location(data: dict[str, object]) -> str:
    kind = data.get("type")
    if kind == "local":
        return str(data.get("path", ""))
    if kind == "fsspec":
        return str(data.get("url", ""))
    container = data.get("container_name") or data.get("filesystem")
    where = data.get("account_url") or data.get("account_name") or ""
    return f"{where}/{container}"
