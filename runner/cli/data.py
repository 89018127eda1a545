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

import click

from runner.cli import _common
from runner.cli._assets import (
    EXTRA_ARGS,
    SeveralValues,
    add_option,
    check_local_path,
    flags_named,
    one_of,
    parse_update,
    restored,
    which_versions,
)
from runner.cli._common import client, emit, output_option, query_option_for
from runner.cli.model import parse_pairs
from runner.errors import SpecError

app = click.Group("data", help="Register and manage data assets.", no_args_is_help=True)
registry_option = click.option("--registry-name", "registry_name", default=None,
                               help="A registry (a local namespace of data assets).")


class DataType(StrEnum):
    uri_file = "uri_file"
    uri_folder = "uri_folder"
    mltable = "mltable"


_COLUMNS = ["name", "version", "type", "path", "description"]
_NAME_HELP = "Data asset name."
_LABEL_HELP = "Label (latest)."
query_option = query_option_for("[?type=='uri_file'].name")


@app.command("create", cls=SeveralValues)
@click.option("--file", "-f", default=None, metavar="PATH",
              help="Data asset YAML (az ml data create --file).")
@click.option("--name", "-n", default=None, help="Name (overrides the file).")
@click.option("--version", "-v", default=None, help="Version (default: next number).")
@click.option("--path", "-p", default=None, metavar="PATH",
              help="Local path, azureml://..., or a storage URL.")
@click.option("--type", "-t", "type_", type=click.Choice([t.value for t in DataType]), default=None,
              help="uri_folder (default), uri_file or mltable.")
@click.option("--description", "-d", default=None, help="Description.")
@click.option("--tags", multiple=True, help="Tags: key=value [key=value ...] (repeatable).")
@click.option("--datastore", default=None, help="Datastore a local path is uploaded to.")
@output_option("json")
@query_option
@registry_option
def create(file: str | None, name: str | None, version: str | None, path: str | None, type_: str | None,
           description: str | None, tags: tuple[str, ...], datastore: str | None, output: str,
           query: str | None, registry_name: str | None) -> None:
    """Register a data asset version.

    Local files are copied into the datastore. An existing --version given again with the same path (or a
    local path with the same content) is that version: its description and tags are set as given, as az ml
    does; other content is refused."""
    from runner.spec.data import Data, check_data_fields, load_data  # start-up cost

    overrides = {"name": name, "version": version, "path": path, "description": description,
                 "type": type_, "datastore": datastore, "tags": parse_pairs(tags, "--tags") or None}
    if not file and (not name or not path):
        raise SpecError("give --file, or --name and --path",
                        hint="runner data create --name iris --path ./data/ --type uri_folder "
                             "(or --file data.yml)")
    with flags_named(overrides):  # an error about a value a flag gave names the flag
        if file:
            data = load_data(file, overrides=overrides)
        else:
            check_local_path(path, allowed="an azureml:// URI or a storage URL")
            data = Data.model_validate({k: v for k, v in overrides.items() if v is not None})
            check_data_fields(data)
        created = client(registry_name).data.create_or_update(data)
    emit(created.to_dict(), output, _COLUMNS, query)


@app.command("list")
@click.option("--name", "-n", default=None, help="List the versions of this data asset.")
@click.option("--include-archived", is_flag=True, default=False, help="Include archived assets.")
@click.option("--archived-only", is_flag=True, default=False, help="Only archived assets.")
@click.option("--max-results", "-r", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@output_option()
@query_option
@registry_option
def list_(name: str | None, include_archived: bool, archived_only: bool, max_results: int | None,
          output: str, query: str | None, registry_name: str | None) -> None:
    """List data assets, or the versions of one.

    The latest version of each asset; with --name, every version of that asset."""
    assets = client(registry_name).data.list(name, include_archived=include_archived,
                                             archived_only=archived_only, max_results=max_results)
    columns = _COLUMNS + (["archived"] if include_archived or archived_only else [])
    emit([d.to_dict() for d in assets], output, columns, query)


@app.command("show")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Version.")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@output_option()
@query_option
@registry_option
def show(name: str, version: str | None, label: str | None, output: str, query: str | None,
         registry_name: str | None) -> None:
    """Show one data asset version."""
    one_of(version, label)
    emit(client(registry_name).data.get(name, version=version, label=label).to_dict(), output, [], query)


@app.command("update", cls=SeveralValues, context_settings=EXTRA_ARGS)
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", required=True, help="Version.")
@click.option("--set", "set_", multiple=True, help="description=... or tags.<key>=<value> (several).")
@click.option("--remove", multiple=True, help="tags.<key>, tags or description (several).")
@add_option
@output_option("json")
@query_option
@registry_option
@click.pass_context
def update(ctx: click.Context, name: str, version: str, set_: tuple[str, ...], remove: tuple[str, ...],
           output: str, query: str | None, registry_name: str | None) -> None:
    """Update a data asset version's description or tags.

    Nothing else of a version can change. Also --add tags <key>=<value> [...] (as az's generic update)."""
    change = parse_update(list(set_), list(remove), ctx.args)
    updated = client(registry_name).data.update(name, version, set_values=change.set_values,
                                                add_values=change.add_values, remove=change.remove)
    emit(updated.to_dict(), output, [], query)


@app.command("archive")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Only this version (default: all).")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@registry_option
def archive(name: str, version: str | None, label: str | None, registry_name: str | None) -> None:
    """Archive a data asset version, or the whole asset.

    An archived asset is hidden from list, and still usable."""
    one_of(version, label, required=False)
    data = client(registry_name).data
    chosen = data.get(name=name, label=label).version if label else version  # the one it changes
    data.archive(name, version=chosen)
    click.echo(f"archived data asset '{name}'" + which_versions(chosen))


@app.command("restore")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Only this version (default: all).")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@registry_option
def restore(name: str, version: str | None, label: str | None, registry_name: str | None) -> None:
    """Restore an archived data asset version, or the whole asset."""
    one_of(version, label, required=False)
    data = client(registry_name).data
    chosen = data.get(name=name, label=label).version if label else version  # the one it changes
    staying = data.restore_staying(name, version=chosen)  # the versions archived on their own stay archived
    click.echo(restored("data asset", "data", name, chosen, staying, registry=registry_name))


@app.command("download")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Version (default: latest).")
@click.option("--download-path", "-p", default=".", metavar="PATH", help="Folder to download into.")
@registry_option
def download(name: str, version: str | None, download_path: str, registry_name: str | None) -> None:
    """Download a data asset version's files.

    They go to <download-path>/<name>/."""
    data = client(registry_name).data
    found = data.get(name, version=version, label=None if version else "latest")
    target = data.download(name, version=found.version, download_path=download_path,
                           quiet=_common.STATE.quiet)
    click.echo(f"downloaded data asset '{name}' version {found.version} to {target}")
