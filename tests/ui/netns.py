"""Browser tests run in a loopback-only network namespace, whatever command started pytest.

Headless Chromium makes network requests of its own (DNS, component updates); here nothing may leave
the machine. So a test marked ``browser`` never runs in a process that can reach the network: when
pytest runs outside such a namespace, the first browser test starts ONE inner pytest run of all the
selected browser tests under

    unshare -n sh -c 'ip link set lo up && exec python -m pytest <node ids> ...'

and every browser test is then reported in the outer run with its inner outcome (passed, failed with
the inner failure's text, or skipped). Inside the namespace (``socket.if_nameindex()`` lists only
``lo``) the tests simply run. ``pytest tests`` and ``pytest tests/ui/test_ui_browser.py::test_x``
both work, and both stay off the network.

The inner run writes its outcomes to the JSON file named by ``RUNNER_UI_RESULTS`` (``record_report``),
its temporary files under the outer run's base temporary folder (``browser/``), and its page
screenshots to ``build/screenshots`` (``RUNNER_UI_SCREENSHOTS``).
A machine where ``unshare -n`` is not allowed skips the browser tests locally and fails them under
``CI=true`` (as a missing service does).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

RESULTS_ENV = "RUNNER_UI_RESULTS"
INNER_TIMEOUT_S = 900
_STATE = pytest.StashKey[dict[str, Any]]()
# as tests/conftest.py (whose module a subfolder's conftest cannot import: both are ``conftest``)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_service(what: str) -> None:
    """Skip (locally) or fail (in CI) because ``what`` is not available (tests/conftest.py's rule)."""
    message = f"{what} is not available: run `bash scripts/provision.sh`"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def screenshot_folder() -> Path:
    default = Path(__file__).resolve().parents[2] / "build" / "screenshots"
    return Path(os.environ.get("RUNNER_UI_SCREENSHOTS") or default)


def loopback_only() -> bool:
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def is_browser(item: pytest.Item) -> bool:
    return item.get_closest_marker("browser") is not None


# ---- inside: record what happened to each test ------------------------------------------------
def record_report(report: pytest.TestReport) -> None:
    """Inner run: remember each test's outcome (a failing or skipping phase wins over a passed one)."""
    path = os.environ.get(RESULTS_ENV)
    if not path or (report.passed and report.when != "call"):
        return
    results = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    if results.get(report.nodeid, {}).get("outcome") in ("failed", "skipped") and report.passed:
        return
    longrepr: Any = None
    if report.skipped and isinstance(report.longrepr, tuple):
        longrepr = [str(report.longrepr[0]), report.longrepr[1], str(report.longrepr[2])]
    elif report.failed:
        longrepr = f"[{report.when}] {report.longreprtext}"
    results[report.nodeid] = {"outcome": report.outcome, "longrepr": longrepr, "when": report.when,
                              "duration": report.duration}
    Path(path).write_text(json.dumps(results))


# ---- outside: run them inside, report them here -------------------------------------------------
def _inner_run(session: pytest.Session) -> dict[str, Any]:
    config = session.config
    ids = [item.nodeid for item in session.items if is_browser(item)]
    base = config._tmp_path_factory.getbasetemp() / "browser"  # type: ignore[attr-defined]
    results = base.parent / "browser-results.json"
    results.unlink(missing_ok=True)
    inner = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--basetemp", str(base), *ids]
    command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *inner]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=config.rootpath, capture_output=True, text=True,
                              timeout=INNER_TIMEOUT_S, env={**os.environ, RESULTS_ENV: str(results)})
    except FileNotFoundError:
        return {"error": "unshare (util-linux) is not installed", "service": True}
    except subprocess.TimeoutExpired as exc:
        return {"error": f"the browser tests did not finish within {exc.timeout} s"}
    output = (done.stdout + done.stderr)[-6000:]
    if not results.exists():
        cannot = "unshare failed" in done.stderr or "Operation not permitted" in done.stderr
        return {"error": f"the inner run in `unshare -n` exited {done.returncode} without results:\n{output}",
                "service": cannot}
    return {"results": json.loads(results.read_text()), "output": output, "base": base,
            "seconds": time.monotonic() - started}


def report_from_inner(item: pytest.Item) -> bool:
    """Outer run: report ``item`` with its outcome in the inner run (started on first use)."""
    session = item.session
    state = session.stash.get(_STATE, None)
    if state is None:
        state = _inner_run(session)
        session.stash[_STATE] = state
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    outcome, longrepr, when, duration = "passed", None, "call", 0.0
    if "error" in state:
        if state.get("service") and not IN_CI:
            outcome, when = "skipped", "setup"
            longrepr = (str(item.path), 0, f"Skipped: no loopback-only network namespace: {state['error']}")
        else:
            outcome, longrepr, when = "failed", state["error"], "setup"
    else:
        result = state["results"].get(item.nodeid)
        if result is None:
            outcome, longrepr = "failed", f"no result from the inner run:\n{state['output']}"
        else:
            outcome, when, duration = result["outcome"], result["when"], result["duration"]
            longrepr = tuple(result["longrepr"]) if outcome == "skipped" else result["longrepr"]
    keywords = {name: 1 for name in item.keywords}
    for phase in ("setup", "call", "teardown"):
        this = outcome if phase == when else "passed"
        if phase == "call" and outcome != "passed" and when == "setup":
            continue  # a setup that failed or skipped has no call
        report = pytest.TestReport(item.nodeid, item.location, keywords, this,  # type: ignore[arg-type]
                                   longrepr if phase == when else None, phase,  # type: ignore[arg-type]
                                   duration=duration if phase == "call" else 0.0)
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def summary(session: pytest.Session) -> str | None:
    state = session.stash.get(_STATE, None)
    if not state or "base" not in state:
        return None
    return (f"browser tests ran in a loopback-only namespace (unshare -n) in {state['seconds']:.1f} s; "
            f"page screenshots in {screenshot_folder()}")
