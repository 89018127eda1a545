"""The warning for a curated environment the provisioned image stands in for, with another scikit-learn
than the curated one, says each thing once: what it runs on, what that holds, what it stands in for."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.submit import _stand_in
from runner.workspace.db import Workspace


def test_the_stand_in_warning_says_it_once(tmp_path: Path) -> None:
    env = "azureml://registries/azureml/environments/sklearn-1.0/labels/latest"
    warning = _stand_in(Workspace(tmp_path / "ws"), env)
    assert warning == (
        f"environment '{env}' runs on runner/python:3.11 (Python 3.11, scikit-learn 1.5, pandas, numpy, "
        "scipy, mlflow-skinny), which stands in for Azure's curated sklearn-1.0 (scikit-learn 1.0); map it "
        "to a matching image with `runner environment create --name sklearn-1.0 --image IMAGE`")
    assert warning.count("runner/python:3.11") == 1 and "built in" not in warning


@pytest.mark.parametrize("env", ["azureml:sklearn-1.5:1", "azureml:AzureML-sklearn-1.5@latest"])
def test_no_warning_where_the_stand_in_matches(tmp_path: Path, env: str) -> None:
    assert _stand_in(Workspace(tmp_path / "ws"), env) is None
