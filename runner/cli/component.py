"""`runner component ...`: az ml component's create, list and show for command components.

    runner component create --file train.yml [--name train] [--version 2] [--set description=...]
    runner component list [--name train]
    runner component show --name train [--version 1 | --label latest]

A pipeline step then names a registered component as ``component: azureml:train:1`` (or ``@latest``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from runner.cli._assets import version_or_label
from runner.cli._common import OUTPUT, QUERY, OutputFormat, client, emit, output_option

if TYPE_CHECKING:
    from runner.workspace.components import ComponentRecord

app = typer.Typer(no_args_is_help=True)

_COLUMNS = ["name", "version", "display_name", "description", "created_at"]


def _shown(record: ComponentRecord) -> dict[str, Any]:
    """A component as every command prints it: a secret in its ``environment_variables`` as ``***`` (the
    registry keeps the value a step needs; ``runner.plan.env_secrets``)."""
    from runner.plan.env_secrets import masked_spec  # start-up cost

    return masked_spec(record.to_dict())  # type: ignore[no-any-return]


@app.command("create")
def create(
    file: Path = typer.Option(..., "--file", "-f", help="The command component YAML."),
    name: str = typer.Option(None, "--name", "-n", help="Component name (default: from the YAML)."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: the YAML's, else next)."),
    set_: list[str] = typer.Option([], "--set", help="Override a field: --set description=... (repeatable)."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
) -> None:
    """Register a command component version (its code is copied into the workspace); without a version,
    the same spec and code as the newest version returns that version ("unchanged"). The YAML of
    `component show` is taken too (its id and creation_context are ignored)."""
    from runner.spec.component import load_component_spec  # start-up cost

    overrides = list(set_) + ([f"name={name}"] if name else []) + ([f"version={version}"] if version else [])
    spec = load_component_spec(file, overrides)  # what `component show -o yaml` prints besides: ignored
    record = client().components.register(spec)
    if record.unchanged:  # on stderr: stdout stays the record (-o json / --query)
        typer.echo(f"component {record.name}: unchanged, version {record.version} (same spec and code as "
                   "registered; nothing new registered)", err=True)
    emit(_shown(record), output, _COLUMNS, query)


@app.command("list")
def list_(
    name: str = typer.Option(None, "--name", "-n", help="List the versions of this component."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
) -> None:
    """List components (the latest version of each), or the versions of one with --name."""
    rows = [{**_shown(record), "created_at": record.created_at}  # UTC, Z: as every output shows it
            for record in client().components.records(name)]
    emit(rows, output, _COLUMNS, query)


@app.command("show")
def show(
    name: str = typer.Option(..., "--name", "-n", help="Component name."),
    version: str = typer.Option(None, "--version", "-v", help="Version."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    output: OutputFormat = output_option(OutputFormat.yaml),
    query: str = QUERY,
) -> None:
    """Show one component version (the latest with --label latest or no version)."""
    version_or_label(version, label, noun="component", name=name)
    emit(_shown(client().components.record(name, version)), output, [], query)
