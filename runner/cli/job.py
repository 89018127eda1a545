"""`runner job ...`: validate, create, show, list, stream, cancel, download, finalize, archive, restore (az
ml job semantics; ``finalize`` is runner's own: see ``runner.jobs.finalize_later``).

    runner job validate -f job.yml [--set inputs.x.path=data/] [-o json]

prints the run plan: every input and output with its mode, source and path in the job, the rendered
command, the environment variables, the image, and the warnings (fields ignored locally).

Every other command first reconciles the workspace (jobs whose runner died are marked Failed, their
containers and mounts removed). ``create`` without ``--stream`` starts a background worker and prints
the job name; with ``--stream`` it runs the job here, follows its log, and exits 0 for Completed,
1 for Failed and 3 for Canceled (Ctrl-C cancels the job: it is stopped, its outputs finalized).

With ``--stream`` (and in ``job stream``) the job's log and then its Execution Summary go to stdout, as
``az ml job create --stream`` prints them. ``-o json`` makes stdout exactly one JSON document (the job
record): the log and the summary then go to stderr, so ``runner job create --stream -o json | jq`` works.
(``az ml job create --stream -o json`` prints the streamed log and the JSON on the same stdout.)

The job machinery (the spec models, the workspace, the lifecycle) is imported by the command that
uses it, not when the CLI starts: ``runner --help`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from runner.cli import _common, job_follow, pipeline_view
from runner.cli._assets import SeveralValues
from runner.cli._common import BACKEND_NAMES, emit, output_option, query_option, query_option_for
from runner.errors import JobError

if TYPE_CHECKING:
    from runner.pipelines.operations import PipelineJobOperations
    from runner.plan.types import RunPlan
    from runner.spec.job import CommandJobSpec
    from runner.spec.pipeline import PipelineJobSpec
    from runner.workspace.db import JobRecord, Workspace

app = click.Group("job", help="Create, stream, show, list, cancel and download jobs.", no_args_is_help=True)


def load_job_file(file: Path, overrides: list[str]) -> CommandJobSpec | PipelineJobSpec:
    """A job file of either kind (``type: pipeline``, or a command job), read once (it may be a pipe) and
    checked as that kind; the pipeline models are imported for a pipeline only."""
    from runner.spec.load import is_pipeline_data, spec_from_doc  # start-up cost
    from runner.spec.yamlio import load_yaml

    doc = load_yaml(file)
    if is_pipeline_data(doc.data):
        from runner.spec.pipeline import pipeline_from_doc  # start-up cost: a pipeline's models

        return pipeline_from_doc(doc, overrides)
    return spec_from_doc(doc, overrides)


def plan_spec(spec: CommandJobSpec, *, name: str | None = None, backend: str | None = None) -> RunPlan:
    """Check and resolve a loaded job into its plan (nothing is run or written), with the checks
    ``job create`` makes before it queues the job (``check_submission``)."""
    from runner.jobs.compute import choose_compute, default_datastore, run_backend  # start-up cost
    from runner.jobs.submit import check_submission, plan_with_walk
    from runner.spec.names import check_job_name, generate_job_name
    from runner.workspace.db import Workspace

    if name is not None:
        check_job_name(name, "--name")
    workspace = Workspace(_common.STATE.workspace)
    compute = choose_compute(workspace, spec).compute  # the run's rule: a Ray compute's backend, datastore
    backend = run_backend(compute, backend)
    plan, walk = plan_with_walk(spec, workspace=workspace, job_name=name or spec.name or generate_job_name(),
                                default_datastore=default_datastore(compute))
    check_submission(spec, plan, backend=backend, walk=walk)
    return plan


def plan_for_file(file: Path, overrides: list[str] | tuple[str, ...] = (), *, name: str | None = None,
                  output: str = "table", backend: str | None = None,
                  query: str | None = None) -> RunPlan | None:
    """``job validate`` and ``job create --dry-run``: print the plan as text, or as data (``-o json``,
    ``yaml``, ``tsv``, ``--query``; a pipeline's: its graph, ``runner.cli.pipeline_view``), checked on
    ``backend`` as ``job create`` checks it (a command job's, or each step's). The file is read once (it
    may be a pipe: ``--file /dev/stdin``)."""
    from runner.spec.job import CommandJobSpec  # start-up cost

    spec = load_job_file(file, list(overrides))
    if not isinstance(spec, CommandJobSpec):
        pipeline_view.validate(spec, name=name, output=output, query=query, backend=backend)
        return None
    plan = plan_spec(spec, name=name, backend=backend)
    from runner.jobs.submit import backend_for  # loaded by plan_spec
    from runner.plan.render import plan_data, render_plan  # start-up cost

    in_container = backend_for(spec, backend) != "process"  # a Ray compute's: docker (plan_spec checked)
    if output != "table" or query is not None:
        emit(plan_data(plan, in_container=in_container), output, [], query)
    else:
        click.echo(render_plan(plan, in_container=in_container))
    return plan


_FILE = click.option("--file", "-f", type=click.Path(path_type=Path), required=True,
                     help="The job YAML (- or /dev/stdin: read from standard input).")
_SET = click.option("--set", "set_", multiple=True,
                    help="Override fields: --set inputs.x.path=V [f=V ...] (or repeated).")
_NAME = click.option("--name", "-n", required=True, help="The job's name.")
# --query's example for a command that prints one job (the default's, a list of them), and for the plan
_QUERY_ONE = query_option_for("{status: status, exit_code: exit_code}")
_QUERY_PLAN = query_option_for("{image: image, command: command}")


@app.command("validate", cls=SeveralValues)
@_FILE
@_SET
@click.option("--name", "-n", default=None, help="Job name to plan with (default: YAML, or generated).")
@output_option()
@_QUERY_PLAN
def validate(file: Path, set_: tuple[str, ...], name: str | None, output: str, query: str | None) -> None:
    """Check a job YAML and print its run plan; nothing runs."""
    plan_for_file(file, set_, name=name, output=output, query=query)


def _operations() -> PipelineJobOperations:
    from runner.pipelines.operations import PipelineJobOperations  # start-up cost
    from runner.workspace.db import Workspace

    return PipelineJobOperations(Workspace(_common.STATE.workspace))


def _as_json(record: JobRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    data["duration_s"] = _duration(record)
    return data


def _tags(record: JobRecord) -> str:
    """The job's tags (its spec's) as ``job show`` lists them, as ``model show`` does: ``k=v, k2=v2``."""
    tags = record.spec.get("tags")
    return ", ".join(f"{k}={v}" for k, v in tags.items()) if isinstance(tags, dict) else ""


def _duration(record: JobRecord) -> float | None:
    if record.started_at and record.ended_at:
        return round((record.ended_at - record.started_at).total_seconds(), 3)
    return None


@app.command("create", cls=SeveralValues)
@_FILE
@click.option("--name", "-n", default=None, help="Job name (default: from the YAML, or generated).")
@_SET
@click.option("--stream", "-s", is_flag=True, default=False, help="Run here and follow the logs.")
@click.option("--dry-run", is_flag=True, default=False, help="Print the plan; run nothing.")
@click.option("--backend", default=None, metavar=f"[{'|'.join(BACKEND_NAMES)}]",  # runner's error for others
              help="Where the job runs: docker (default) or process.")
@click.option("--no-upload-on-failure", is_flag=True, default=False,
              help="Keep a failed job's outputs (its artifacts too) staged, not uploaded.")
@click.option("--allow-unsafe-docker-args", is_flag=True, default=False,
              envvar="RUNNER_ALLOW_UNSAFE_DOCKER_ARGS", show_envvar=True,
              help="Accept docker_args that weaken the container's isolation (--cap-add, --privileged ...); "
                   "the job's inputs are then no longer protected, and its record says so.")
@output_option()
@_QUERY_ONE
def create(file: Path, name: str | None, set_: tuple[str, ...], stream: bool, dry_run: bool,
           backend: str | None, no_upload_on_failure: bool, allow_unsafe_docker_args: bool, output: str,
           query: str | None) -> None:
    """Create a job (as `az ml job create`).

    With -o json (yaml, tsv) stdout holds only the record."""
    if dry_run:
        plan_for_file(file, set_, name=name, output=output, backend=backend, query=query)
        return
    from runner.spec.job import CommandJobSpec  # start-up cost

    ops = _operations()
    spec = load_job_file(file, list(set_))
    if isinstance(spec, CommandJobSpec):
        ops.choose_compute(spec)  # says in the plan's warnings where a job naming a compute runs
    document = output != "table"  # stdout holds the record only: the log and summary go to stderr
    if stream:
        with job_follow.log_echo(err=document) as echo:
            record = ops.create_or_update(spec, name=name, stream=True, echo=echo, backend=backend,
                                          upload_on_failure=not no_upload_on_failure,
                                          quiet=_common.STATE.quiet,
                                          allow_unsafe_docker_args=allow_unsafe_docker_args,
                                          on_submitted=job_follow.warn)
        if document:
            emit(_as_json(record), output, [], query)
        job_follow.summary(record, err=document)
        if not document and query is not None:
            emit(_as_json(record), output, [], query)
        job_follow.exit_for(record)
        return
    record = ops.create_or_update(spec, name=name, backend=backend,
                                  upload_on_failure=not no_upload_on_failure,
                                  allow_unsafe_docker_args=allow_unsafe_docker_args,
                                  on_submitted=job_follow.warn)
    if document or query is not None:
        emit(_as_json(record), output, [], query)
    else:
        click.echo(record.name)


@app.command("show")
@_NAME
@output_option()
@_QUERY_ONE
def show(name: str, output: str, query: str | None) -> None:
    """Show one job.

    Its status, times, exit code, error, inputs and outputs."""
    ops = _operations()
    record = ops.get(name)
    if output != "table" or query is not None:
        emit(_as_json(record), output, [], query)
        return
    from runner.jobs.job import uris  # start-up cost: loaded with the operations already
    from runner.workspace.upload_state import kept_on_node

    rows: list[tuple[str, Any]] = [
        ("name", record.name), ("display_name", record.display_name),
        ("experiment_name", record.experiment_name), ("status", record.status.value),
        *([("archived", True)] if record.archived else []),
        ("tags", _tags(record)), ("created", record.created_at),
        ("started", record.started_at), ("ended", record.ended_at), ("duration_s", _duration(record)),
        ("exit_code", record.exit_code), ("error", record.error), ("backend", record.backend),
        ("image", record.image), ("image_id", record.image_id), ("outputs_partial", record.outputs_partial)]
    network = _network(ops.workspace, record)
    rows += [("network", network)] if network else []
    ray = record.extra.get("ray")
    if ray:  # a job on a Ray compute: where it ran
        rows += [("compute", f"{ray['compute']} ({ray['address']})"), ("node", ray.get("node_ip"))]
    rows += [(f"inputs.{k}", v) for k, v in uris(record.inputs).items()]
    rows += [(f"inputs.{k}.asset", v) for k, v in record.extra.get("input_assets", {}).items()]
    rows += [(f"outputs.{k}", v) for k, v in uris(record.outputs).items()]
    rows += [(f"outputs.{k}.kept", f"on Ray node {host} at {path} ({files} file{'s' if files != 1 else ''})")
             for k, (host, path, files) in kept_on_node(record).items()]  # staged data a Ray job's node kept
    rows += [("registered_model", job_follow.born(m, record)) for m in record.registered_models]
    rows += [("registered_data", job_follow.born(d, record)) for d in record.registered_data]
    rows += [("link_not_followed", link) for link in record.extra.get("links_not_followed", [])]
    rows += pipeline_view.show_rows(record)
    rows += [("warning", _one_line(w)) for w in record.extra.get("warnings") or []]  # plan's, then the run's
    _common.print_fields(rows)


def _network(ws: Workspace, record: JobRecord) -> str | None:
    """The network its container got or, not yet started, will get (a job Queued by an older runner: as it
    will be found when it starts); None: nothing to say (no plan: a pipeline; ended before its container)."""
    if not isinstance(record.extra.get("plan"), dict):
        return None
    from runner.jobs.stored_datastores import shown_network  # start-up cost
    from runner.plan.network import plan_network
    from runner.plan.stored import plan_from_dict

    plan = plan_from_dict(record.extra["plan"])
    terminal = record.status.is_terminal
    shown = shown_network(ws, record.extra, plan, terminal=terminal, in_container=record.backend != "process")
    return shown if shown or terminal else plan_network(plan).reason


def _one_line(warning: object) -> str:
    """A recorded warning on one line, each character that is not printable (a newline, an escape: a
    warning may name a file a job chose) as its Python escape."""
    text = str(warning)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@app.command("list")
@click.option("--max-results", "-r", type=click.IntRange(min=1), default=None, help="At most this many jobs.")
@click.option("--parent-job-name", "-p", default=None, help="List this pipeline's step jobs.")
@click.option("--include-archived", is_flag=True, default=False, help="Include archived jobs.")
@click.option("--archived-only", is_flag=True, default=False, help="Only archived jobs.")
@output_option()
@query_option
def list_jobs(max_results: int | None, parent_job_name: str | None, include_archived: bool,
              archived_only: bool, output: str, query: str | None) -> None:
    """List jobs, newest first.

    A pipeline's step jobs are folded under it (--parent-job-name lists them). Archived jobs are listed
    with --include-archived or --archived-only only."""
    ops = _operations()
    view = "ArchivedOnly" if archived_only else "All" if include_archived else "ActiveOnly"
    records = ops.list(max_results=max_results, parent_job_name=parent_job_name, list_view_type=view)
    if output != "table" or query is not None:
        emit([_as_json(r) for r in records], output, [], query)
        return
    children = {} if parent_job_name else {
        r.name: ops.list(parent_job_name=r.name) for r in records if pipeline_view.steps_of(r)}
    archived = ("archived",) if include_archived or archived_only else ()
    _common.print_table(("name", "status", "created", "duration_s", "exit_code", "image", *archived),
                        [(shown, r.status.value, r.created_at,  # UTC, Z: as every output shows it
                          _duration(r), r.exit_code, r.image, *((r.archived,) if archived else ()))
                         for r, shown in pipeline_view.folded(list(records), children)])


@app.command("stream")
@_NAME
def stream(name: str) -> None:
    """Follow a job's log until it ends.

    The whole log when it has ended; exits with the job's status."""
    click.echo(f"RunId: {name}")  # on stdout with the log and the summary, as `az ml job stream`
    ops = _operations()
    with job_follow.log_echo() as echo:
        record = ops.stream(name, echo=echo, raise_on_failure=False)
    job_follow.summary(record)
    job_follow.exit_for(record)


@app.command("cancel")
@_NAME
@output_option()
@_QUERY_ONE
def cancel(name: str, output: str, query: str | None) -> None:
    """Cancel a job.

    It is stopped (a grace period, then killed), its outputs finalized, and it is marked Canceled. A job
    whose command has already ended (Finalizing) is not interrupted: it ends with its own status, and this
    command says so and exits 1. The cancel is recorded in the job too: a runner that took the job
    meanwhile stops it at its next check (this command then says "cancel requested")."""
    from runner.jobs.cancel_request import still_active  # start-up cost (see the module docstring)

    record = _operations().cancel(name)
    document = output != "table" or query is not None  # stdout holds the record only
    if not record.status.is_terminal:  # its runner holds it: finalizing, or it stops at its next check
        click.echo(f"{record.name}: {still_active(record)}: `runner job stream --name {name}`", err=document)
        if document:
            emit(_as_json(record), output, [], query)
        return
    if record.status.value != "Canceled":
        raise JobError(f"job '{name}' was not canceled: its command had already ended when the cancel "
                       f"arrived (it was finalizing its outputs), and it ended {record.status.value}",
                       hint=f"finalization is never interrupted; `runner job show --name {name}` shows "
                            "the result")
    if document:
        emit(_as_json(record), output, [], query)
    else:
        click.echo(f"{record.name}: {record.status.value}")


@app.command("download")
@_NAME
@click.option("--output-name", default=None, help="One named output.")
@click.option("--all", "all_", is_flag=True, default=False, help="Artifacts and every named output.")
@click.option("--download-path", "-p", type=click.Path(path_type=Path), default=".",
              help="Folder to download into.")
def download(name: str, output_name: str | None, all_: bool, download_path: Path) -> None:
    """Download a job's outputs.

    They go to artifacts/ and named-outputs/<name>/ under --download-path."""
    if output_name and all_:
        raise click.BadParameter("give --output-name or --all, not both")
    for path in _operations().download(name, download_path=download_path, output_name=output_name,
                                       all=all_, quiet=_common.STATE.quiet):
        click.echo(str(path))


@app.command("finalize")
@_NAME
@click.option("--output-name", "output_names", multiple=True,
              help="One output to finalize (repeat for more); default: every output that needs it.")
def finalize(name: str, output_names: tuple[str, ...]) -> None:
    """Upload an ended job's outputs its end could not upload.

    Outputs held back with --no-upload-on-failure, or whose upload failed, are uploaded from their
    staging folders, as the job's end would have; a job that failed only at that completes once they
    are."""
    from runner.jobs.finalize_later import failure, finalize_outputs  # start-up cost
    from runner.pipelines.ending import after_step_finalized, running_pipeline

    workspace = _operations().workspace
    result = finalize_outputs(workspace, name, list(output_names) or None, quiet=_common.STATE.quiet)
    for output in result.done:
        click.echo(f"{name}: output '{output}' uploaded")
    click.echo(f"{name}: {result.record.status.value}" + "".join(
        f"; registered {ref}" for ref in [*result.registered.models, *result.registered.data]))
    if (pipeline := after_step_finalized(workspace, result.record)) is not None:  # its status follows it
        click.echo(f"{pipeline.name}: {pipeline.status.value} (the pipeline of step job {name})")
    elif (pipeline := running_pipeline(workspace, result.record)) is not None:
        click.echo(f"{pipeline.name}: still {pipeline.status.value} (the pipeline of step job {name}): it "
                   "counts this step as Completed when it ends")
    if (err := failure(result)) is not None:
        raise err


@app.command("archive")
@_NAME
def archive(name: str) -> None:
    """Archive a job: `job list` hides it.

    A job of any status (a running one runs on); `job list --include-archived` lists it."""
    _operations().archive(name)
    click.echo(f"archived job '{name}'")


@app.command("restore")
@_NAME
def restore(name: str) -> None:
    """Restore an archived job: `job list` shows it again."""
    _operations().restore(name)
    click.echo(f"restored job '{name}'")
