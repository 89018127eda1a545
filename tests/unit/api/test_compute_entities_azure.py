"""The "get or create a compute cluster" block of Microsoft's tutorials runs unchanged: ``AmlCompute`` (and
``ComputeInstance``) import from ``runner.entities``, and ``ml_client.compute.begin_create_or_update(...)``
(or ``ml_client.begin_create_or_update(...)``, or the dict with ``type: amlcompute``) takes them: its
``.result()`` is the compute (``.name``, ``.size``, ``.type``), nothing is recorded, and one note (logger
``runner.client``) says a job on it runs on this machine, in the words a job naming an unregistered compute
gets. ``ml_client.compute.get(name)`` afterwards still raises (ResourceNotFoundError): there is no such
compute here. A Ray compute registered under that name stays (the note says jobs run there). A misspelled
keyword is one ``SpecError``. Workspaces in tmp_path; nothing runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from runner import MLClient
from runner.errors import SpecError

UNREGISTERED = "compute 'cpu-cluster' is not registered in this workspace, so "


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def _notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "runner.client" and r.levelno >= logging.INFO]


def test_the_tutorials_get_or_create_block_runs(ml_client: MLClient,
                                                caplog: pytest.LogCaptureFixture) -> None:
    cpu_compute_target = "cpu-cluster"
    with caplog.at_level(logging.INFO):
        try:
            cpu_cluster = ml_client.compute.get(cpu_compute_target)
            created = False
        except Exception:
            from runner.entities import AmlCompute

            cpu_cluster = AmlCompute(
                name=cpu_compute_target,
                type="amlcompute",
                size="STANDARD_DS3_V2",
                min_instances=0,
                max_instances=4,
                idle_time_before_scale_down=180,
                tier="Dedicated",
            )
            cpu_cluster = ml_client.compute.begin_create_or_update(cpu_cluster).result()
            created = True
    assert created
    assert (cpu_cluster.name, cpu_cluster.size, cpu_cluster.type) == ("cpu-cluster", "STANDARD_DS3_V2",
                                                                       "amlcompute")
    assert (cpu_cluster.min_instances, cpu_cluster.max_instances, cpu_cluster.tier) == (0, 4, "Dedicated")
    [note] = _notes(caplog)
    assert UNREGISTERED in note and "runs on this machine" in note, note
    assert "not created here" in note, note
    assert "ml_client.compute.get('cpu-cluster') still finds none" in note, note
    assert "ml_client.compute.create_or_update({'name': 'cpu-cluster', 'type': 'ray'" in note, note
    assert "runner compute create" not in note, note
    assert list(ml_client.compute.list()) == []  # nothing recorded
    with pytest.raises(ResourceNotFoundError):
        ml_client.compute.get(cpu_compute_target)


@pytest.mark.parametrize("how", ["compute.begin_create_or_update", "client.begin_create_or_update",
                                 "compute.create_or_update"])
def test_a_compute_instance_and_the_other_calls(ml_client: MLClient, caplog: pytest.LogCaptureFixture,
                                                how: str) -> None:
    from runner.entities import ComputeInstance

    instance = ComputeInstance(name="ci-1", size="STANDARD_DS3_V2", idle_time_before_shutdown_minutes=30)
    with caplog.at_level(logging.INFO):
        if how == "compute.begin_create_or_update":
            got = ml_client.compute.begin_create_or_update(instance).result()
        elif how == "client.begin_create_or_update":
            got = ml_client.begin_create_or_update(instance).result()
        else:
            got = ml_client.compute.create_or_update(instance)
    assert (got.name, got.size, got.type) == ("ci-1", "STANDARD_DS3_V2", "computeinstance")
    [note] = _notes(caplog)
    assert "compute 'ci-1' is not registered in this workspace" in note, note
    assert list(ml_client.compute.list()) == []


def test_the_dict_form_is_taken_too(ml_client: MLClient, caplog: pytest.LogCaptureFixture) -> None:
    data: dict[str, Any] = {"name": "cpu-cluster", "type": "amlcompute", "size": "STANDARD_DS3_V2",
                            "min_instances": 0, "max_instances": 2}
    with caplog.at_level(logging.INFO):
        got = ml_client.compute.begin_create_or_update(data).result()
    assert (got.name, got.size, got.type) == ("cpu-cluster", "STANDARD_DS3_V2", "amlcompute")
    assert len([n for n in _notes(caplog) if UNREGISTERED in n]) == 1


def test_a_registered_ray_compute_of_that_name_stays(ml_client: MLClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from runner.entities import AmlCompute

    ml_client.compute.create_or_update({"name": "cpu-cluster", "type": "ray", "address": "http://127.0.0.1:8265"})
    with caplog.at_level(logging.INFO):
        got = ml_client.compute.begin_create_or_update(AmlCompute(name="cpu-cluster", size="S")).result()
    assert got.type == "amlcompute"
    [note] = _notes(caplog)
    assert "Ray compute" in note and "http://127.0.0.1:8265" in note and "not registered" not in note, note
    assert ml_client.compute.get("cpu-cluster").type == "ray"


def test_a_misspelled_keyword_is_one_spec_error() -> None:
    from runner.entities import AmlCompute

    with pytest.raises(SpecError) as info:
        AmlCompute(name="c", size="S", max_instnces=3)
    assert "max_instnces" in info.value.message and "max_instances" in info.value.message
