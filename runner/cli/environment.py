"""`runner environment ...` commands: map Azure ML environments to local images."""

from __future__ import annotations

import typer

from runner.cli._assets import version_or_label
from runner.cli._common import OUTPUT, QUERY, OutputFormat, client, emit, output_option

app = typer.Typer(no_args_is_help=True)

_COLUMNS = ["name", "version", "image", "build_context", "builtin"]


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", "-n", help="Environment name (as jobs reference it)."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: next number)."),
    image: str = typer.Option(None, "--image", "-i", help="A local Docker image to run."),
    build_context: str = typer.Option(None, "--build-context", "-b", help="Folder to docker build."),
    dockerfile: str = typer.Option(None, "--dockerfile", help="Dockerfile inside the build context."),
    description: str = typer.Option(None, "--description", "-d", help="Description."),
    output: OutputFormat = output_option(OutputFormat.json),
    query: str = QUERY,
) -> None:
    """Map an environment name (and version) to a local image or a build context."""
    record = client().environments.create_or_update(name=name, version=version, image=image,
                                                    build_context=build_context, dockerfile=dockerfile,
                                                    description=description)
    emit(record.model_dump(mode="json"), output, [], query)


@app.command("list")
def list_(
    name: str = typer.Option(None, "--name", "-n", help="Only this environment's versions."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
) -> None:
    """List mapped environments, and the built-in ones (curated environments the provisioned image holds)."""
    emit([r.model_dump(mode="json") for r in client().environments.list(name)], output, _COLUMNS, query)


@app.command("show")
def show(
    name: str = typer.Option(..., "--name", "-n", help="Environment name."),
    version: str = typer.Option(None, "--version", "-v", help="Version (default: latest)."),
    label: str = typer.Option(None, "--label", "-l", help="Label (latest)."),
    output: OutputFormat = OUTPUT,
    query: str = QUERY,
) -> None:
    """Show one environment version (the latest with --label latest or no version)."""
    version_or_label(version, label, noun="environment", name=name)
    emit(client().environments.get(name, version).model_dump(mode="json"), output, [], query)
