"""`runner model ...` commands: az ml model's verbs and flags."""

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
from runner.cli._common import OUTPUT, QUERY, REGISTRY, OutputFormat, client, emit, output_option
from runner.errors import SpecError

app = typer.Typer(no_args_is_help=True)


class ModelType(StrEnum):
    custom_model = "custom_model"
    mlflow_model = "mlflow_model"
    triton_model = "triton_model"


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
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


@app.command("create", cls=SeveralValues)
def create(
    file: str = typer.Option(None, "--file", "-f", help="Model YAML (az ml model create --file)."),
    name: str = typer.Option(None, "--name", "-n", help="Model name."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: next number)."),
    path: str = typer.Option(None, "--path", "-p", help="Local path, azureml://..., runs:/... or URL."),
    type_: ModelType = typer.Option(None, "--type", "-t", help="Model type (default custom_model)."),
    description: str = typer.Option(None, "--description", "-d", help="Description."),
    tags: list[str] = typer.Option(None, "--tags", help="Tags: key=value [key=value ...] (repeatable)."),
    stage: str = typer.Option(None, "--stage", "-s", help="Stage, e.g. Development, Production."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Register a model version (copies local files into the workspace's default datastore).

    An existing --version given again with the same path (or a local path with the same content) is that
    version: its description, tags and stage are set as given, as az ml does; other content is refused."""
    from runner.spec.model import Model, check_model_fields, load_model  # start-up cost

    overrides = {"name": name, "version": version, "path": path, "description": description,
                 "type": type_.value if type_ else None, "stage": stage,
                 "tags": parse_pairs(tags, "--tags") or None}
    if file:
        model = load_model(file, overrides=overrides)
    else:
        if not name or not path:
            raise SpecError("give --file, or --name and --path",
                            hint="runner model create --name my-model --path ./model.pkl "
                                 "(or --file model.yml)")
        check_local_path(path, allowed="an azureml:// URI, runs:/<run>/<path> or a URL")
        model = Model.model_validate({k: v for k, v in overrides.items() if v is not None})
        check_model_fields(model)
    created = client(registry_name).models.create_or_update(model)
    emit(created.to_dict(), output, _MODEL_LIST_COLUMNS, query)


@app.command("list")
def list_(
    name: str = typer.Option(None, "--name", "-n", help="List the versions of this model."),
    include_archived: bool = typer.Option(False, "--include-archived", help="Include archived models."),
    archived_only: bool = typer.Option(False, "--archived-only", help="Only archived models."),
    max_results: int = typer.Option(None, "--max-results", "-r", min=1, help="At most this many rows."),
    stage: str = typer.Option(None, "--stage", "-s", help="Only versions in this stage (e.g. Production)."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """List models (latest version of each), or the versions of one model with --name."""
    models = client(registry_name).models.list(name, stage=stage, include_archived=include_archived,
                                               archived_only=archived_only, max_results=max_results)
    columns = _MODEL_LIST_COLUMNS + (["archived"] if include_archived or archived_only else [])
    emit([m.to_dict() for m in models], output, columns, query)


@app.command("show")
def show(
    name: str = typer.Option(..., "--name", "-n", help="Model name."),
    version: str = typer.Option(None, "--version", "-v", help="Version."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Show one model version."""
    one_of(version, label)
    emit(client(registry_name).models.get(name, version=version, label=label).to_dict(), output, [], query)


@app.command("update", cls=SeveralValues, context_settings=EXTRA_ARGS)
def update(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", "-n", help="Model name."),
    version: str = typer.Option(..., "--version", "-v", help="Version."),
    set_: list[str] = typer.Option(None, "--set",
                                   help="description=..., stage=... or tags.<key>=<value> (several)."),
    remove: list[str] = typer.Option(None, "--remove",
                                     help="tags.<key>, tags, description or stage (several)."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
    registry_name: str = REGISTRY,
) -> None:
    """Update the description, tags or stage of a model version (nothing else can change).

    Also --add tags <key>=<value> [...] (as az's generic update)."""
    change = parse_update(set_, remove, ctx.args)
    updated = client(registry_name).models.update(name, version, set_values=change.set_values,
                                                  add_values=change.add_values, remove=change.remove)
    emit(updated.to_dict(), output, [], query)


@app.command("archive")
def archive(
    name: str = typer.Option(..., "--name", "-n", help="Model name."),
    version: str = typer.Option(None, "--version", "-v", help="Only this version (default: all)."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    registry_name: str = REGISTRY,
) -> None:
    """Archive a model version, or the whole model (hidden from list; still usable)."""
    one_of(version, label, required=False)
    models = client(registry_name).models
    chosen = models.get(name=name, label=label).version if label else version  # the one it changes
    models.archive(name, version=chosen)
    typer.echo(f"archived model '{name}'" + which_versions(chosen))


@app.command("restore")
def restore(
    name: str = typer.Option(..., "--name", "-n", help="Model name."),
    version: str = typer.Option(None, "--version", "-v", help="Only this version (default: all)."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    registry_name: str = REGISTRY,
) -> None:
    """Restore an archived model version, or the whole model."""
    one_of(version, label, required=False)
    models = client(registry_name).models
    chosen = models.get(name=name, label=label).version if label else version  # the one it changes
    staying = models.restore_staying(name, version=chosen)  # the versions archived on their own stay archived
    typer.echo(restored("model", "model", name, chosen, staying, registry=registry_name))


@app.command("download")
def download(
    name: str = typer.Option(..., "--name", "-n", help="Model name."),
    version: str = typer.Option(..., "--version", "-v", help="Version."),
    download_path: str = typer.Option(".", "--download-path", "-p", help="Folder to download into."),
    registry_name: str = REGISTRY,
) -> None:
    """Download a model version's files to <download-path>/<name>/."""
    target = client(registry_name).models.download(name, version=version, download_path=download_path,
                                                   quiet=_common.STATE.quiet)
    typer.echo(f"downloaded model '{name}' version {version} to {target}")

