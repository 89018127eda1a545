"""The mutation check (tests/mutations.py) still applies to the code as it is: each mutation's text is
found where it says (once, or at least once for ``every``) and the tests it runs exist. When code moves,
this goes red here, in the test command, instead of the next mutation run failing on a missing text."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _mutations_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("runner_mutations", REPO / "tests" / "mutations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


MUTATIONS = _mutations_module().MUTATIONS


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_the_mutation_still_applies(mutation) -> None:  # type: ignore[no-untyped-def]
    found = (REPO / mutation.path).read_text().count(mutation.old)
    if mutation.every:
        assert found >= 1, f"{mutation.name}: {mutation.old!r} is no longer in {mutation.path}"
    else:
        assert found == 1, f"{mutation.name}: {mutation.old!r} is in {mutation.path} {found} times, not once"
    assert mutation.old != mutation.new


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_the_mutations_tests_exist(mutation) -> None:  # type: ignore[no-untyped-def]
    paths = [arg for arg in mutation.tests if arg.startswith("tests/")]
    assert paths, f"{mutation.name} runs no test file"
    for path in paths:
        assert (REPO / path.split("::")[0]).is_file(), f"{mutation.name}: {path} does not exist"
