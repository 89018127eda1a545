"""`runner component ...`: az ml component's create, list and show for command components.

    runner component create --file train.yml [--name train] [--version 2] [--set description=...]
    runner component list [--name train]
    runner component show --name train [--version 1 | --label latest]

A pipeline step then names a registered component as ``component: azureml:train:1`` (or ``@latest``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner.cli._assets import version_or_label
from runner.cli._common import client, emit, output_option, query_option_for

if TYPE_CHECKING:
    from runner.workspace.components import ComponentRecord

app = click.Group("component", help="Register and show command components (pipeline steps).",
                  no_args_is_help=True)

_COLUMNS = ["name", "version", "display_name", "description", "created_at"]
query_option = query_option_for("[].{name: name, version: version}")


def _shown(record: ComponentRecord) -> dict[str, Any]:
    """A component as every command prints it: a secret in its ``environment_variables`` as ``***`` (the
    registry keeps the value a step needs; ``runner.plan.env_secrets``)."""
    from runner.plan.env_secrets import masked_spec  # start-up cost

    return masked_spec(record.to_dict())  # type: ignore[no-any-return]


@app.command("create")
@click.option("--file", "-f", type=click.Path(path_type=Path), required=True,
              help="The command component YAML.")
@click.option("--name", "-n", default=None, help="Component name (default: from the YAML).")
@click.option("--version", "-v", default=None, help="Version (default: the YAML's, else next).")
@click.option("--set", "set_", multiple=True, help="Override a field: --set description=... (repeatable).")
@output_option("json")
@query_option
def create(file: Path, name: str | None, version: str | None, set_: tuple[str, ...], output: str,
           query: str | None) -> None:
    """Register a command component version.

    Its code is copied into the workspace. Without a version, the same spec and code as the newest
    version returns that version ("unchanged"). The YAML of `component show` is taken too (its id and
    creation_context are ignored)."""
    from runner.spec.component import load_component_spec  # start-up cost

    overrides = list(set_) + ([f"name={name}"] if name else []) + ([f"version={version}"] if version else [])
    spec = load_component_spec(file, overrides)  # what `component show -o yaml` prints besides: ignored
    record = client().components.register(spec)
    if record.unchanged:  # on stderr: stdout stays the record (-o json / --query)
        click.echo(f"component {record.name}: unchanged, version {record.version} (same spec and code as "
                   "registered; nothing new registered)", err=True)
    emit(_shown(record), output, _COLUMNS, query)


@app.command("list")
@click.option("--name", "-n", default=None, help="List the versions of this component.")
@output_option()
@query_option
def list_(name: str | None, output: str, query: str | None) -> None:
    """List components, or the versions of one.

    The latest version of each component; with --name, every version of that component."""
    rows = [{**_shown(record), "created_at": record.created_at}  # UTC, Z: as every output shows it
            for record in client().components.records(name)]
    emit(rows, output, _COLUMNS, query)


@app.command("show")
@click.option("--name", "-n", required=True, help="Component name.")
@click.option("--version", "-v", default=None, help="Version.")
@click.option("--label", "-l", default=None, help="Label (latest).")
@output_option("yaml")
@query_option
def show(name: str, version: str | None, label: str | None, output: str, query: str | None) -> None:
    """Show one component version.

    The latest one with --label latest, or with no --version."""
    version_or_label(version, label, noun="component", name=name)
    emit(_shown(client().components.record(name, version)), output, [], query)
