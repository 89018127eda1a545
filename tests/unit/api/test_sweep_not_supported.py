"""A ported sweep meets one clear error, not an ``AttributeError`` or ``ModuleNotFoundError``:
``job.sweep(...)`` on a command job, and ``from runner.sweep import Choice`` (each name azure.ai.ml's
``azure.ai.ml.sweep`` has), raise one ``SpecError`` (``ValidationException``) saying that sweep jobs are not
supported here and what to do instead (one command job per setting), in Python words. A name that
``azure.ai.ml.sweep`` does not have is an ordinary ``AttributeError`` / ``ImportError``."""

from __future__ import annotations

import importlib
import re

import pytest

from runner import command
from runner.errors import SpecError
from runner.exceptions import ValidationException

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
AZURE_SWEEP_NAMES = ("SweepJob", "SweepJobLimits", "Choice", "Normal", "LogNormal", "QNormal", "QLogNormal",
                     "Randint", "Uniform", "QUniform", "LogUniform", "QLogUniform", "BanditPolicy",
                     "MedianStoppingPolicy", "TruncationSelectionPolicy", "SamplingAlgorithm",
                     "RandomSamplingAlgorithm", "GridSamplingAlgorithm", "BayesianSamplingAlgorithm",
                     "Objective")


def _says_not_supported(err: SpecError) -> None:
    text = str(err)
    assert "sweep jobs are not supported here" in text, text
    assert "hint:" in text and "command(" in text and "create_or_update" in text, text
    assert not CLI_FORMS.search(text) and "Traceback" not in text, text


def test_a_command_jobs_sweep() -> None:
    job = command(command="python train.py --lr ${{inputs.lr}}", environment="python:3.11",
                  inputs={"lr": 0.1})
    with pytest.raises(ValidationException) as info:
        job.sweep(compute="cpu-cluster", sampling_algorithm="random", primary_metric="acc", goal="Maximize")
    assert isinstance(info.value, SpecError)
    _says_not_supported(info.value)


@pytest.mark.parametrize("name", AZURE_SWEEP_NAMES)
def test_importing_a_sweep_name(name: str) -> None:
    with pytest.raises(SpecError) as info:
        exec(f"from runner.sweep import {name}", {})  # noqa: S102 - the ported import, as written
    _says_not_supported(info.value)
    assert name in str(info.value)


def test_another_name_is_an_ordinary_import_error() -> None:
    sweep = importlib.import_module("runner.sweep")
    with pytest.raises(AttributeError):
        sweep.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from runner.sweep import NoSuchThing", {})  # noqa: S102
