"""`runner environment ...` commands: map Azure ML environments to local images (``create --file env.yml``
reads Azure's environment YAML)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner.cli._assets import SeveralValues, flags_named, version_or_label
from runner.cli._common import (
    OutputFormat,
    apply_query,
    client,
    emit,
    output_option,
    query_option_for,
    with_z_times,
)
from runner.cli.model import parse_pairs
from runner.errors import SourceLocation, SpecError

if TYPE_CHECKING:
    from runner.entities import Environment

app = click.Group("environment", help="Map Azure ML environments to local images.", no_args_is_help=True)

_COLUMNS = ["name", "version", "image", "build_context", "builtin"]
query_option = query_option_for("[?!builtin].{name: name, image: image}")
_FILE_FIELDS = ("name", "version", "image", "conda_file", "build", "dockerfile", "build_context",
                "description", "tags")
# a field create's flags give -> its flag (``--conda-file``)
_FLAGS = {field: "--" + field.replace("_", "-") for field in _FILE_FIELDS if field != "build"}


@app.command("create", cls=SeveralValues)
@click.option("--file", "-f", default=None, metavar="PATH", help="Environment YAML (as az ml's --file).")
@click.option("--name", "-n", default=None, help="Environment name (as jobs reference it).")
@click.option("--version", "-v", default=None, help="Version (default: next number).")
@click.option("--image", "-i", default=None, help="A local Docker image to run.")
@click.option("--conda-file", "-c", default=None, metavar="PATH", help="Conda file to install on --image.")
@click.option("--build-context", "-b", default=None, metavar="PATH", help="Folder to docker build.")
@click.option("--dockerfile", default=None, metavar="PATH", help="Dockerfile inside the build context.")
@click.option("--description", "-d", default=None, help="Description.")
@click.option("--tags", multiple=True, help="Tags: key=value [key=value ...] (repeatable).")
@output_option("json")
@query_option
def create(file: str | None, name: str | None, version: str | None, image: str | None,
           conda_file: str | None, build_context: str | None, dockerfile: str | None,
           description: str | None, tags: tuple[str, ...], output: str, query: str | None) -> None:
    """Map an environment name (and version) to a local image.

    The image as it is, with a conda file's packages installed on it, or built from a build context;
    --file reads Azure's environment YAML (flags override its fields)."""
    from runner.entities import Environment  # start-up cost
    from runner.loaders import load_environment

    flags = {"name": name, "version": version, "image": image, "conda_file": conda_file,
             "build_context": build_context, "dockerfile": dockerfile, "description": description,
             "tags": parse_pairs(tags, "--tags") or None}
    loaded = load_environment(file) if file else Environment()
    with flags_named(flags, _FLAGS):  # an error about a value a flag gave names the flag
        record = _created(file, flags, loaded)
    emit(record.model_dump(mode="json"), output, [], query)


def _created(file: str | None, flags: dict[str, Any], loaded: Environment) -> Any:
    """The environment record ``create`` made of the file's environment (``loaded``) and the flags."""
    env = _with_flags(loaded, flags)
    if not env.name and file:
        raise SpecError(f"the environment in {file} needs a name", where=SourceLocation(Path(file).resolve()),
                        field="name", hint="add name: <environment name> to the file, or pass --name")
    if not env.name:
        raise SpecError("give --file, or --name with --image (and --conda-file) or --build-context",
                        field="name", hint="runner environment create --name my-env --image "
                                           "runner/python:3.11 (or --file env.yml)")
    try:
        return client().environments.create_or_update(env)
    except SpecError as err:  # a field the file gave (name, image, conda_file ...): at its line
        field = (err.field or "").split(".")[0]
        if not file or field not in _FILE_FIELDS or flags.get(field):  # a flag's: not the file's
            raise
        from runner.spec.yamlio import load_yaml  # start-up cost: only for an error

        raise err.located(err.field or field, load_yaml(file).where((field,))) from err


def _with_flags(env: Environment, flags: dict[str, Any]) -> Environment:
    """The file's environment with the flags given (a flag replaces the field)."""
    from runner.entities import BuildContext  # start-up cost

    for field in ("name", "version", "description", "conda_file", "tags"):
        if flags[field] is not None:
            setattr(env, field, flags[field])
    if flags["image"]:
        env.image, env.build = flags["image"], None
    if flags["build_context"]:
        env.image, env.build = None, BuildContext(path=flags["build_context"],
                                                  dockerfile_path=flags["dockerfile"] or "Dockerfile")
    elif flags["dockerfile"] and env.build is not None:
        env.build.dockerfile_path = flags["dockerfile"]
    elif flags["dockerfile"]:
        raise SpecError("--dockerfile needs a build context", field="dockerfile",
                        hint="pass --build-context <dir> (or build: {path: <dir>} in the file)")
    return env


@app.command("list")
@click.option("--name", "-n", default=None, help="Only this environment's versions.")
@output_option()
@query_option
def list_(name: str | None, output: str, query: str | None) -> None:
    """List mapped environments, and the built-in ones.

    The built-in ones are the curated environments the provisioned image holds."""
    emit([r.model_dump(mode="json") for r in client().environments.list(name)], output, _COLUMNS, query)


@app.command("show")
@click.option("--name", "-n", required=True, help="Environment name.")
@click.option("--version", "-v", default=None, help="Version (default: latest).")
@click.option("--label", "-l", default=None, help="Label (latest).")
@output_option()
@query_option
def show(name: str, version: str | None, label: str | None, output: str, query: str | None) -> None:
    """Show one environment version.

    The latest one with --label latest, or with no --version."""
    version_or_label(version, label, noun="environment", name=name)
    latest = None if version else "latest"  # no version: the newest (the SDK's get needs one or the label)
    shown = client().environments.get(name, version or None, latest).model_dump(mode="json")
    if OutputFormat(output) is not OutputFormat.yaml:
        emit(shown, output, [], query)
        return
    data = with_z_times(shown)  # what emit does, then the conda file's text as a block (it reads as the file)
    data = apply_query(data, query) if query is not None else data
    from ruamel.yaml import YAML  # only -o yaml needs it

    yaml = YAML(typ="safe")
    yaml.Representer = _block_representer()
    yaml.default_flow_style = False
    yaml.dump(data, sys.stdout)


def _block_representer() -> type:
    """The safe representer, a text of several lines written as a ``|`` block (made on first use: only
    -o yaml imports ruamel; the subclass keeps the change to itself)."""
    from ruamel.yaml.representer import SafeRepresenter

    def block_text(representer: SafeRepresenter, text: str) -> Any:
        style = "|" if "\n" in text else None
        return representer.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    class BlockRepresenter(SafeRepresenter):  # type: ignore[misc]
        pass

    BlockRepresenter.add_representer(str, block_text)
    return BlockRepresenter
