"""`runner job ...` commands: `validate` here; the lifecycle verbs (create, show, list, stream, cancel,
download) are added to this same ``app`` in ``runner.cli.job_lifecycle``.

    runner job validate -f job.yml [--set inputs.x.path=data/] [-o json]

prints the run plan: every input and output with its mode, source and path in the job, the rendered
command, the environment variables, the image, and the warnings (fields ignored locally).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from runner.cli import _common

if TYPE_CHECKING:
    from runner.plan_types import RunPlan

app = typer.Typer(no_args_is_help=True)

OUTPUT_FORMATS = ("table", "json")


def plan_file(file: Path, overrides: list[str] | tuple[str, ...] = (), *, name: str | None = None
              ) -> RunPlan:
    """Load, check and resolve a job YAML into its plan (nothing is run or written)."""
    from runner.names import generate_job_name, is_valid_job_name
    from runner.plan import plan_job
    from runner.spec import load_job_spec
    from runner.workspace import Workspace

    spec = load_job_spec(file, list(overrides))
    if name is not None and not is_valid_job_name(name):
        from runner.errors import SpecError

        raise SpecError(f"'{name}' is not a valid job name", field="--name",
                        hint="use letters, digits, '-' and '_', starting with a letter or digit")
    workspace = Workspace(_common.STATE.workspace)
    return plan_job(spec, workspace=workspace, job_name=name or spec.name or generate_job_name())


def plan_for_file(file: Path, overrides: list[str] | tuple[str, ...] = (), *, name: str | None = None,
                  output: str = "table") -> RunPlan:
    """``job validate`` and ``job create --dry-run``: print the plan as text or JSON."""
    if output not in OUTPUT_FORMATS:
        from runner.errors import SpecError

        raise SpecError(f"unknown output format '{output}'", field="--output",
                        hint="use -o table or -o json")
    plan = plan_file(file, overrides, name=name)
    if output == "json":
        _common.print_json(plan.to_dict())
    else:
        from runner.plan import render_plan

        typer.echo(render_plan(plan))
    return plan


@app.command("validate")
def validate(
    file: Path = typer.Option(..., "--file", "-f", help="The job YAML."),
    set_: list[str] = typer.Option([], "--set", help="Override a field: --set inputs.x.path=V (repeatable)."),
    name: str = typer.Option(None, "--name", "-n",
                             help="Job name to plan with (default: YAML, or generated)."),
    output: str = typer.Option("table", "--output", "-o", help="Output format: table (default) or json."),
) -> None:
    """Check a job YAML and print its run plan; nothing runs."""
    plan_for_file(file, set_, name=name, output=output)
