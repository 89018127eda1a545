"""`runner ui`: the workspace in a web browser (models, jobs with live logs and lineage, datastores,
environments), served by uvicorn from the optional extra ``runner[ui]``.

Its Register form copies local files only from one folder (``runner.ui.sources``): the one it was
started in, or ``--sources <folder>``; it prints that folder beside the address.

Every request must carry an access token, on loopback too (anything on this machine, a docker job on the
host network as well, can connect to 127.0.0.1): a new random one each start, or ``--token`` /
``RUNNER_UI_TOKEN``. The printed address carries it (``?token=...``: the one place it is shown); opening it
once keeps it in the browser as a cookie. It listens on 127.0.0.1 unless told otherwise (and answers to
the loopback address it was given, ``--host 127.0.0.2``); any other address needs ``--allow-remote``
and a token of one's own. Starlette, Jinja2 and uvicorn are imported by this command only: ``runner
--help`` and every other command never load them, and without the extra this command says how to install
it.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import secrets
from pathlib import Path

import click

from runner.cli import _common
from runner.errors import RunnerError, SpecError

UI_EXTRA = "pip install 'runner[ui]'"  # an installed runner; a checkout's: ``install_hint``
# the modules the UI needs, and the distribution that provides each
UI_DEPENDENCIES = (("starlette", "starlette"), ("jinja2", "jinja2"), ("uvicorn", "uvicorn"),
                   (("python_multipart", "multipart"), "python-multipart"))
MIN_TOKEN_LENGTH = 16


def install_hint(package: Path | None = None) -> str:
    """How to install the UI's extra for this runner (``package``: its ``runner`` folder): from its checkout
    when it runs from one (an editable install: ``runner[ui]`` would ask PyPI for a package of that name),
    else ``runner[ui]``."""
    checkout = (package or Path(__file__).resolve().parents[1]).parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "runner" / "cli" / "ui.py").is_file():
        return f"pip install -e '{checkout}[ui]'"
    return UI_EXTRA


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, allow_remote: bool, token: str | None) -> None:
    """Refuse an address beyond loopback without ``--allow-remote`` and a long enough token."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise SpecError(f"the access token is too short ({len(token)} characters; at least "
                        f"{MIN_TOKEN_LENGTH})", field="--token",
                        hint="make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(24))'")
    if is_loopback(host):
        return
    if not allow_remote:
        raise SpecError(f"runner ui listens on loopback only; --host {host} would let other machines reach "
                        "the workspace", field="--host",
                        hint="keep the default --host 127.0.0.1 (reach it through an SSH tunnel), or pass "
                             "--allow-remote --token <secret>")
    if token is None:
        raise SpecError("--allow-remote needs an access token", field="--token",
                        hint="pass --token <secret> or set RUNNER_UI_TOKEN: every request must carry it")


def answered_hosts(host: str, loopback_names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The Host names the UI answers to: on loopback, the loopback names and the address it listens on
    (``127.0.0.2``); beyond loopback (``--allow-remote``), any (None)."""
    if not is_loopback(host):
        return None
    own = host.strip("[]").lower()
    return loopback_names if own in loopback_names else (*loopback_names, own)


def sources_folder(given: Path | None) -> Path:
    """The folder the Register form may read local files from: ``--sources``, or the current folder;
    absolute, links resolved (where it really is, as ``runner.ui.sources`` judges paths)."""
    if given is None:
        try:
            return Path.cwd().resolve()
        except FileNotFoundError as exc:
            raise SpecError("the current folder no longer exists", field="--sources",
                            hint="start runner ui in an existing folder, or pass --sources <folder>") from exc
    folder = given.expanduser()
    if not folder.exists():
        raise SpecError(f"the folder {given} does not exist", field="--sources",
                        hint="give an existing folder: the Register form copies local files only from it "
                             "(default: the folder runner ui is started in)")
    if not folder.is_dir():
        raise SpecError(f"{given} is not a folder", field="--sources",
                        hint=f"give the folder that holds it ({folder.resolve().parent}), or another folder")
    return folder.resolve()


def missing_dependency() -> str | None:
    """The first distribution of ``runner[ui]`` that is not installed (found without importing it)."""
    for modules, distribution in UI_DEPENDENCIES:
        names = modules if isinstance(modules, tuple) else (modules,)
        if not any(importlib.util.find_spec(name) is not None for name in names):
            return distribution
    return None


@click.command("ui", help="Serve the workspace in a web browser (needs runner[ui]).")
@click.option("--host", default="127.0.0.1", help="Address to listen on (loopback by default).")
@click.option("--port", "-p", type=int, default=8000, help="Port (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, default=False,
              help="Open the UI in the default web browser.")
@click.option("--allow-remote", is_flag=True, default=False,
              help="Allow a --host beyond loopback (needs --token).")
@click.option("--token", default=None, envvar="RUNNER_UI_TOKEN", show_envvar=True,
              help="Access token every request must carry (default: a new random one each start, in the "
                   "printed address; required with --allow-remote).")
@click.option("--sources", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="The only folder the Register form copies local files from (default: the current "
                   "folder).")
def ui(host: str, port: int, open_browser: bool, allow_remote: bool, token: str | None,
       sources: Path | None) -> None:
    """Serve the workspace in a web browser: models, jobs with live logs and lineage, datastores."""
    check_binding(host, allow_remote, token)
    files_root = sources_folder(sources)
    missing = missing_dependency()
    if missing is not None:
        raise RunnerError(f"runner ui needs the optional web UI dependencies ({missing} is not installed)",
                          hint=f"install them: {install_hint()}")
    from runner.ui.app import create_app  # the optional extra: imported by this command only
    from runner.ui.security import LOOPBACK_NAMES
    from runner.ui.server import bind, serve

    client = _common.client()
    token = token or secrets.token_urlsafe(32)  # on loopback too: any local program can connect there
    app = create_app(client, token=token, allowed_hosts=answered_hosts(host, LOOPBACK_NAMES),
                     files_root=files_root)
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise RunnerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="choose another --port (or --port 0 for any free one)") from exc

    def announce(address: str) -> None:
        click.echo(f"runner ui: workspace {client.workspace.root}\n  {address}\n"
                   f"Register form reads local files from: {files_root}\n(Ctrl-C stops it)")

    serve(app, sock, announce=announce, open_browser=open_browser, token=token)
