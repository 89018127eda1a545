"""A step's local files checked where they were written, when the pipeline is validated, not when the step
starts: its ``code`` folder and its environment's ``conda_file``, their ``file:`` forms read as a job's
paths (``runner.file_urls``: ``file:///x``, ``file://localhost/x``, ``file:/x`` are ``/x``; a relative path
is from the YAML it was written in). One missing, or a file URL naming another host, is one error at its
own line: the pipeline's (``jobs.<step>.code``) or the component's (``code``); a missing code folder or
conda file is a ``ResolveError`` (exit 1: named, not there), a malformed value a ``SpecError`` (exit 2).

    check_step_files(built, "train")   # built: the step's command job (runner.pipelines.graph)
"""

from __future__ import annotations

from runner.errors import ResolveError, SpecError
from runner.file_urls import file_path
from runner.spec.environment import local_file, not_found_kind
from runner.spec.job import CommandJobSpec


def check_step_files(built: CommandJobSpec, step: str) -> None:
    """The step's ``code`` folder and ``conda_file`` (see the module docstring)."""
    _check_code(built, step)
    _check_conda_file(built, step)


def _written_in(field_name: str) -> str:
    """Which YAML a step's field (as ``runner.pipelines.graph``'s step doc names it) was written in."""
    return "pipeline" if field_name.startswith("jobs.") else "component"  # an inline component: the pipeline


def _relative_to(built: CommandJobSpec, field_name: str, keyword: str, what: str) -> str:
    """Where a relative path of the step is read from, as a hint ends: the YAML it was written in, or
    (a step built in Python, ``runner.dsl``: no file) the folder that was current then."""
    if built.where().file is None:
        return (f"pass {keyword}= {what}, relative to the current folder ({built.base_dir}) when the "
                "pipeline was built, or an absolute path")
    return f"set {keyword}: to {what} relative to the {_written_in(field_name)} YAML"


def _check_code(built: CommandJobSpec, step: str) -> None:
    """A local ``code`` folder that is not there, or a file URL naming another host, is refused."""
    code, field_name = built.code, built.field_name("code")
    if not code or code.startswith(("azureml:", "http://", "https://")):
        return
    try:
        folder = built.base_dir / file_path(code, field_name)
        if not folder.exists():  # named but not there: exit 1, as a missing input path is
            raise ResolveError(f"code folder '{folder}' does not exist",
                               hint=_relative_to(built, field_name, "code", "a folder")
                               + ", or create the folder")
    except (ResolveError, SpecError) as err:
        raise err.reworded(f"step '{step}': {err.message}", field=field_name, where=built.where("code"),
                           hint=err.hint) from None


def _check_conda_file(built: CommandJobSpec, step: str) -> None:
    """A ``conda_file`` that is not there, or a file URL naming another host, is refused at its own line
    (not at ``environment:``)."""
    env = built.environment
    if isinstance(env, str) or not isinstance(env.conda_file, str):
        return
    field_name = built.field_name("environment", "conda_file")
    try:
        conda = local_file(env.conda_file, built.base_dir, field_name)
        if not conda.is_file():  # not there: exit 1, as a missing code folder; a folder named: exit 2
            hint = _relative_to(built, field_name, "conda_file", "a conda environment file")
            raise not_found_kind(conda)(f"conda file '{conda}' does not exist",
                                        hint=hint + ", or create the file")
    except (ResolveError, SpecError) as err:
        raise err.reworded(f"step '{step}': {err.message}", field=field_name,
                           where=built.where("environment", "conda_file"), hint=err.hint) from None
