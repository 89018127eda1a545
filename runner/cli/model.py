"""`runner model ...` commands: az ml model's verbs and flags."""

from __future__ import annotations

from collections.abc import Sequence
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
from runner.cli._common import client, emit, output_option, query_option_for, registry_option
from runner.errors import SpecError

app = click.Group("model", help="Register and manage models.", no_args_is_help=True)


class ModelType(StrEnum):
    custom_model = "custom_model"
    mlflow_model = "mlflow_model"
    triton_model = "triton_model"


def parse_pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """``k=v`` pairs from an option's words: ``--tags a=1 b=2`` as az takes them (``SeveralValues``
    gives each word the flag) or ``--tags a=1 --tags b=2``; a quoted value may hold spaces
    (``--tags "note=two words"``)."""
    pairs: dict[str, str] = {}
    for value in values or []:
        for item in value.split() if "=" in value and " " in value.split("=", 1)[0] else [value]:
            key, sep, val = item.partition("=")
            if not sep or not key:
                raise SpecError(f"{option} expects key=value, got '{item}'", field=option,
                                hint=f"for example {option} stage=Prod")
            pairs[key.strip()] = val
    return pairs


_MODEL_LIST_COLUMNS = ["name", "version", "type", "stage", "description"]
_NAME_HELP = "Model name."
_LABEL_HELP = "Label (latest)."
query_option = query_option_for("[?version=='2'].name")


@app.command("create", cls=SeveralValues)
@click.option("--file", "-f", default=None, metavar="PATH", help="Model YAML (az ml model create --file).")
@click.option("--name", "-n", default=None, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Version (default: next number).")
@click.option("--path", "-p", default=None, metavar="PATH",
              help="Local path, azureml://..., runs:/... or URL.")
@click.option("--type", "-t", "type_", type=click.Choice([t.value for t in ModelType]), default=None,
              help="Model type (default custom_model).")
@click.option("--description", "-d", default=None, help="Description.")
@click.option("--tags", multiple=True, help="Tags: key=value [key=value ...] (repeatable).")
@click.option("--stage", "-s", default=None, help="Stage, e.g. Development, Production.")
@output_option("json")
@query_option
@registry_option
def create(file: str | None, name: str | None, version: str | None, path: str | None, type_: str | None,
           description: str | None, tags: tuple[str, ...], stage: str | None, output: str,
           query: str | None, registry_name: str | None) -> None:
    """Register a model version.

    Local files are copied into the workspace's default datastore. An existing --version given again with
    the same path (or a local path with the same content) is that version: its description, tags and stage
    are set as given, as az ml does; other content is refused."""
    from runner.spec.model import Model, check_model_fields, load_model  # start-up cost

    overrides = {"name": name, "version": version, "path": path, "description": description,
                 "type": type_, "stage": stage, "tags": parse_pairs(tags, "--tags") or None}
    if not file and (not name or not path):
        raise SpecError("give --file, or --name and --path",
                        hint="runner model create --name my-model --path ./model.pkl (or --file model.yml)")
    with flags_named(overrides):  # an error about a value a flag gave names the flag
        if file:
            model = load_model(file, overrides=overrides)
        else:
            check_local_path(path, allowed="an azureml:// URI, runs:/<run>/<path> or a URL")
            model = Model.model_validate({k: v for k, v in overrides.items() if v is not None})
            check_model_fields(model)
        created = client(registry_name).models.create_or_update(model)
    emit(created.to_dict(), output, _MODEL_LIST_COLUMNS, query)


@app.command("list")
@click.option("--name", "-n", default=None, help="List the versions of this model.")
@click.option("--include-archived", is_flag=True, default=False, help="Include archived models.")
@click.option("--archived-only", is_flag=True, default=False, help="Only archived models.")
@click.option("--max-results", "-r", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option("--stage", "-s", default=None, help="Only versions in this stage (e.g. Production).")
@output_option()
@query_option
@registry_option
def list_(name: str | None, include_archived: bool, archived_only: bool, max_results: int | None,
          stage: str | None, output: str, query: str | None, registry_name: str | None) -> None:
    """List models, or the versions of one.

    The latest version of each model; with --name, every version of that model."""
    models = client(registry_name).models.list(name, stage=stage, include_archived=include_archived,
                                               archived_only=archived_only, max_results=max_results)
    columns = _MODEL_LIST_COLUMNS + (["archived"] if include_archived or archived_only else [])
    emit([m.to_dict() for m in models], output, columns, query)


@app.command("show")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Version.")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@output_option()
@query_option
@registry_option
def show(name: str, version: str | None, label: str | None, output: str, query: str | None,
         registry_name: str | None) -> None:
    """Show one model version."""
    one_of(version, label)
    emit(client(registry_name).models.get(name, version=version, label=label).to_dict(), output, [], query)


@app.command("update", cls=SeveralValues, context_settings=EXTRA_ARGS)
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", required=True, help="Version.")
@click.option("--set", "set_", multiple=True,
              help="description=..., stage=... or tags.<key>=<value> (several).")
@click.option("--remove", multiple=True, help="tags.<key>, tags, description or stage (several).")
@add_option
@output_option("json")
@query_option
@registry_option
@click.pass_context
def update(ctx: click.Context, name: str, version: str, set_: tuple[str, ...], remove: tuple[str, ...],
           output: str, query: str | None, registry_name: str | None) -> None:
    """Update a model version's description, tags or stage.

    Nothing else of a version can change. Also --add tags <key>=<value> [...] (as az's generic update)."""
    change = parse_update(list(set_), list(remove), ctx.args)
    updated = client(registry_name).models.update(name, version, set_values=change.set_values,
                                                  add_values=change.add_values, remove=change.remove)
    emit(updated.to_dict(), output, [], query)


@app.command("archive")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Only this version (default: all).")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@registry_option
def archive(name: str, version: str | None, label: str | None, registry_name: str | None) -> None:
    """Archive a model version, or the whole model.

    An archived model is hidden from list, and still usable."""
    one_of(version, label, required=False)
    models = client(registry_name).models
    chosen = models.get(name=name, label=label).version if label else version  # the one it changes
    models.archive(name, version=chosen)
    click.echo(f"archived model '{name}'" + which_versions(chosen))


@app.command("restore")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", default=None, help="Only this version (default: all).")
@click.option("--label", "-l", default=None, help=_LABEL_HELP)
@registry_option
def restore(name: str, version: str | None, label: str | None, registry_name: str | None) -> None:
    """Restore an archived model version, or the whole model."""
    one_of(version, label, required=False)
    models = client(registry_name).models
    chosen = models.get(name=name, label=label).version if label else version  # the one it changes
    staying = models.restore_staying(name, version=chosen)  # the versions archived on their own stay archived
    click.echo(restored("model", "model", name, chosen, staying, registry=registry_name))


@app.command("download")
@click.option("--name", "-n", required=True, help=_NAME_HELP)
@click.option("--version", "-v", required=True, help="Version.")
@click.option("--download-path", "-p", default=".", metavar="PATH", help="Folder to download into.")
@registry_option
def download(name: str, version: str, download_path: str, registry_name: str | None) -> None:
    """Download a model version's files.

    They go to <download-path>/<name>/."""
    target = client(registry_name).models.download(name, version=version, download_path=download_path,
                                                   quiet=_common.STATE.quiet)
    click.echo(f"downloaded model '{name}' version {version} to {target}")
