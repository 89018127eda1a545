"""``Done``: what a long-running ``begin_*`` operation returns here, where it has already finished when
it returns (azure.core's ``LROPoller``: ``result()``, ``done()``, ``wait()``, ``status()``)."""

from __future__ import annotations

from typing import Any


class Done:
    """A finished long-running operation; ``result()`` is its value."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self, timeout: float | None = None) -> Any:
        return self._value

    def done(self) -> bool:
        return True

    def wait(self, timeout: float | None = None) -> None:
        return None

    def status(self) -> str:
        return "Succeeded"
