"""The UI's rewording of runner's hints for a browser user (``runner.ui.words``): the form's flags become
its fields' labels outside backticks only, a job command becomes the job's page, an unknown job's or
asset's hint names the workspace the UI serves and its lists, and any other hint is kept."""

from __future__ import annotations

from runner.errors import RegistryError, ResolveError
from runner.ui.words import browser_hint, for_browser

FIELDS = {"type": "Type", "path": "Path"}


def test_the_forms_flags_become_its_fields_outside_backticks() -> None:
    hint = ("point path at the MLflow model folder, or use --type custom_model for a single file; "
            "to register any other path, use `runner model create --path <path>` in a shell")
    assert browser_hint(hint, "/ws", fields=FIELDS) == (
        "point path at the MLflow model folder, or use custom_model in the Type field for a single file; "
        "to register any other path, use `runner model create --path <path>` in a shell")
    assert browser_hint("check --path", "/ws", fields=FIELDS) == "check the Path field"
    assert browser_hint("pass --datastore az", "/ws", fields=FIELDS) == "pass --datastore az"  # not a field
    assert browser_hint("use --type custom_model", "/ws", fields={}) == "use --type custom_model"  # no form


def test_a_job_command_becomes_the_jobs_page() -> None:
    hint = ("wait for it (`runner job stream --name j1`, or `ml_client.jobs.stream('j1')` in Python) and "
            "register it then")
    assert browser_hint(hint, "/ws", fields={}) == "wait for it (the page /jobs/j1) and register it then"
    assert browser_hint("`runner job show --name j1` says why it ended", "/ws", fields={}) == \
        "the page /jobs/j1 says why it ended"


def test_unknown_names_point_at_the_uis_lists_of_its_workspace() -> None:
    err = ResolveError("unknown job 'x' in workspace /ws; recent jobs: a",
                       hint="`runner job list` shows all jobs; check --workspace / RUNNER_WORKSPACE points "
                            "at the workspace that ran it")
    shown = for_browser(err, "/ws")
    assert shown is not err and shown.message == err.message and err.hint is not None
    assert shown.hint is not None and "Jobs list" in shown.hint and "(/ws)" in shown.hint
    assert "--workspace" not in shown.hint and "RUNNER_WORKSPACE" not in shown.hint
    data = browser_hint("`runner data list --include-archived` shows every data asset", "/ws", fields={})
    assert data is not None and data.startswith("the Data list shows every data asset of the workspace")


def test_other_hints_are_kept() -> None:
    err = RegistryError("version exists", hint="omit the version to get the next one")
    assert for_browser(err, "/ws", fields=FIELDS) is err
    assert browser_hint(None, "/ws", fields=FIELDS) is None
