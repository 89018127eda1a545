"""``runner.backends.docker_oom``: a container killed for memory is said to be, with its limit, also
when the engine learns of the OOM a moment after the exit (the inspect is asked again)."""

from __future__ import annotations

from typing import Any

import pytest

from runner.backends import docker_oom
from runner.backends.docker_oom import oom_reason, out_of_memory_message


class Inspections:
    """docker-py's ``inspect_container`` answers, in turn (the last one repeats)."""

    def __init__(self, *states: dict[str, Any]) -> None:
        self.states, self.asked = list(states), 0

    def inspect_container(self, _container_id: str) -> dict[str, Any]:
        self.asked += 1
        return self.states[min(self.asked, len(self.states)) - 1]


def _state(oom: bool, memory: int = 16 * 2**20) -> dict[str, Any]:
    return {"State": {"OOMKilled": oom, "ExitCode": 137}, "HostConfig": {"Memory": memory}}


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_oom, "RETRY_S", 0.0)


def test_an_oom_kill_says_so_with_the_limit() -> None:
    assert oom_reason(Inspections(_state(True)), "c", killed=True) == out_of_memory_message(16 * 2**20)
    assert "memory limit of 16 MiB" in out_of_memory_message(16 * 2**20)
    assert "memory limit of 2 GiB" in out_of_memory_message(2 * 2**30)
    assert "no memory limit" in out_of_memory_message(0)


def test_an_oom_the_engine_reports_late_is_still_found() -> None:
    api = Inspections(_state(False), _state(False), _state(True))
    assert oom_reason(api, "c", killed=True) is not None and api.asked == 3


def test_a_kill_that_was_not_for_memory_is_not_called_one() -> None:
    api = Inspections(_state(False))
    assert oom_reason(api, "c", killed=True) is None and api.asked == docker_oom.RETRIES
    api = Inspections(_state(False))
    assert oom_reason(api, "c", killed=False) is None and api.asked == 1  # exit 1 etc.: asked once
