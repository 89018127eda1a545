"""What the documentation tests share: where the pages are, and a page's isolated "checkout" to run its
examples in (tests/docs/, tests/docs_examples.py has the runner itself).

A page's examples run as a reader would run them from the repository's root, in a throwaway copy of
what they use: ``samples/`` is copied, the Azure ML examples (when present) are linked at
``../shared/azureml-examples``, ``RUNNER_WORKSPACE`` is a fresh folder and ``HOME`` another one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from docs_examples import PageRunner, page_env
from repo_paths import EXAMPLES, REPO

DOCS = REPO / "docs"
SCRIPTS = REPO / "scripts"
# a `<!-- needs: NAME -->` marker -> the conftest fixture that provides (or skips / fails without) it
SERVICE_FIXTURES = {"docker": "docker_client", "fuse": "fuse_available", "azurite": "azure_container"}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")  # as tests/conftest.py


def requirer(request: pytest.FixtureRequest, env: dict[str, str]) -> Callable[[str], None]:
    """``require(service)`` for a PageRunner: the service's fixture (which skips locally and fails under
    CI when it is missing). ``azurite`` gives the page a fresh blob container of its own (deleted after
    the test) as ``DOCS_AZURE_CONTAINER``, with ``DOCS_AZURITE_PORT`` and ``DOCS_AZURITE_KEY``."""
    def require(service: str) -> None:
        if service == "examples":  # the Azure ML examples beside the checkout (conftest's `examples` mark)
            if not EXAMPLES.is_dir():
                message = f"the Azure ML examples are not at {EXAMPLES} (../shared/azureml-examples)"
                if IN_CI:
                    pytest.fail(message, pytrace=False)
                pytest.skip(message)
            return
        if service not in SERVICE_FIXTURES:
            raise AssertionError(f"unknown service in a needs marker: {service!r} "
                                 f"(known: {', '.join([*SERVICE_FIXTURES, 'examples'])})")
        value = request.getfixturevalue(SERVICE_FIXTURES[service])
        if service == "azurite":
            env.update(DOCS_AZURE_CONTAINER=value.name, DOCS_AZURITE_PORT=str(value.azurite.port),
                       DOCS_AZURITE_KEY=value.azurite.key)

    return require


def checkout_runner(tmp_path: Path, request: pytest.FixtureRequest) -> PageRunner:
    """A PageRunner in ``tmp_path/checkout`` (samples copied in), with its own workspace and home."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copytree(REPO / "samples", checkout / "samples",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if EXAMPLES.is_dir():
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "azureml-examples").symlink_to(EXAMPLES)
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "workspace").mkdir()  # an empty folder: a new workspace (a missing one is refused by readers)
    env = page_env(home, {
        "RUNNER_WORKSPACE": str(tmp_path / "workspace"),
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    })
    return PageRunner(checkout, env, require=requirer(request, env))
