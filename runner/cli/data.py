"""`runner data ...` commands: az ml data's verbs, flags and YAML.

    runner data create --file local-folder-sampledata.yml [--name N] [--version V]
    runner data create --name iris --path ./iris.csv --type uri_file
    runner data list | show | update | archive | restore | download

A job input ``azureml:<name>:<version>`` or ``azureml:<name>@latest`` of type ``uri_file``,
``uri_folder`` or ``mltable`` reads the data asset; a named ``uri_*``/``mltable`` output registers one.
Every verb takes ``--registry-name <r>`` (as ``runner model``): a registry's own namespace, read by
``azureml://registries/<r>/data/<name>/versions/<v>``.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from runner.cli import _common
from runner.cli._assets import (
    EXTRA_ARGS,
    SeveralValues,
    check_local_path,
    one_of,
    parse_update,
    restored,
    which_versions,
)
from runner.cli._common import OUTPUT, QUERY, OutputFormat, client, emit, output_option
from runner.cli.model import parse_pairs
from runner.errors import SpecError

app = typer.Typer(no_args_is_help=True)
REGISTRY = typer.Option(None, "--registry-name", help="A registry (a local namespace of data assets).")


class DataType(StrEnum):
    uri_file = "uri_file"
    uri_folder = "uri_folder"
    mltable = "mltable"


_COLUMNS = ["name", "version", "type", "path", "description"]


@app.command("create", cls=SeveralValues)
def create(
    file: str = typer.Option(None, "--file", "-f", help="Data asset YAML (az ml data create --file)."),
    name: str = typer.Option(None, "--name", "-n", help="Name (overrides the file)."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: next number)."),
    path: str = typer.Option(None, "--path", "-p", help="Local path, azureml://..., or a storage URL."),
    type_: DataType = typer.Option(None, "--type", "-t", help="uri_folder (default), uri_file or mltable."),
    description: str = typer.Option(None, "--description", "-d", help="Description."),
    tags: list[str] = typer.Option(None, "--tags", help="Tags: key=value [key=value ...] (repeatable)."),
    datastore: str = typer.Option(None, "--datastore", help="Datastore a local path is uploaded to."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Register a data asset version (copies local files into the datastore).

    An existing --version given again with the same path (or a local path with the same content) is that
    version: its description and tags are set as given, as az ml does; other content is refused."""
    from runner.spec.data import Data, check_data_fields, load_data  # start-up cost

    overrides = {"name": name, "version": version, "path": path, "description": description,
                 "type": type_.value if type_ else None, "datastore": datastore,
                 "tags": parse_pairs(tags, "--tags") or None}
    if file:
        data = load_data(file, overrides=overrides)
    else:
        if not name or not path:
            raise SpecError("give --file, or --name and --path",
                            hint="runner data create --name iris --path ./data/ --type uri_folder "
                                 "(or --file data.yml)")
        check_local_path(path, allowed="an azureml:// URI or a storage URL")
        data = Data.model_validate({k: v for k, v in overrides.items() if v is not None})
        check_data_fields(data)
    emit(client(registry_name).data.create_or_update(data).to_dict(), output, _COLUMNS, query)


@app.command("list")
def list_(
    name: str = typer.Option(None, "--name", "-n", help="List the versions of this data asset."),
    include_archived: bool = typer.Option(False, "--include-archived", help="Include archived assets."),
    archived_only: bool = typer.Option(False, "--archived-only", help="Only archived assets."),
    max_results: int = typer.Option(None, "--max-results", "-r", min=1, help="At most this many rows."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """List data assets (latest version of each), or the versions of one with --name."""
    assets = client(registry_name).data.list(name, include_archived=include_archived,
                                             archived_only=archived_only, max_results=max_results)
    columns = _COLUMNS + (["archived"] if include_archived or archived_only else [])
    emit([d.to_dict() for d in assets], output, columns, query)


@app.command("show")
def show(
    name: str = typer.Option(..., "--name", "-n", help="Data asset name."),
    version: str = typer.Option(None, "--version", "-v", help="Version."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Show one data asset version."""
    one_of(version, label)
    emit(client(registry_name).data.get(name, version=version, label=label).to_dict(), output, [], query)


@app.command("update", cls=SeveralValues, context_settings=EXTRA_ARGS)
def update(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", "-n", help="Data asset name."),
    version: str = typer.Option(..., "--version", "-v", help="Version."),
    set_: list[str] = typer.Option(None, "--set", help="description=... or tags.<key>=<value> (several)."),
    remove: list[str] = typer.Option(None, "--remove", help="tags.<key>, tags or description (several)."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Update the description or tags of a data asset version (nothing else can change).

    Also --add tags <key>=<value> [...] (as az's generic update)."""
    change = parse_update(set_, remove, ctx.args)
    updated = client(registry_name).data.update(name, version, set_values=change.set_values,
                                                add_values=change.add_values, remove=change.remove)
    emit(updated.to_dict(), output, [], query)


@app.command("archive")
def archive(
    name: str = typer.Option(..., "--name", "-n", help="Data asset name."),
    version: str = typer.Option(None, "--version", "-v", help="Only this version (default: all)."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    registry_name: str = REGISTRY,
) -> None:
    """Archive a data asset version, or the whole asset (hidden from list; still usable)."""
    one_of(version, label, required=False)
    data = client(registry_name).data
    chosen = data.get(name=name, label=label).version if label else version  # the one it changes
    data.archive(name, version=chosen)
    typer.echo(f"archived data asset '{name}'" + which_versions(chosen))


@app.command("restore")
def restore(
    name: str = typer.Option(..., "--name", "-n", help="Data asset name."),
    version: str = typer.Option(None, "--version", "-v", help="Only this version (default: all)."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    registry_name: str = REGISTRY,
) -> None:
    """Restore an archived data asset version, or the whole asset."""
    one_of(version, label, required=False)
    data = client(registry_name).data
    chosen = data.get(name=name, label=label).version if label else version  # the one it changes
    staying = data.restore_staying(name, version=chosen)  # the versions archived on their own stay archived
    typer.echo(restored("data asset", "data", name, chosen, staying, registry=registry_name))


@app.command("download")
def download(
    name: str = typer.Option(..., "--name", "-n", help="Data asset name."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: latest)."),
    download_path: str = typer.Option(".", "--download-path", "-p", help="Folder to download into."),
    registry_name: str = REGISTRY,
) -> None:
    """Download a data asset version's files to <download-path>/<name>/."""
    data = client(registry_name).data
    found = data.get(name, version=version, label=None if version else "latest")
    target = data.download(name, version=found.version, download_path=download_path,
                           quiet=_common.STATE.quiet)
    typer.echo(f"downloaded data asset '{name}' version {found.version} to {target}")
