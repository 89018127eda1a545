"""The base of azure.ai.ml's value objects here (``Input``, ``Output``, the job settings of
``runner.spec.job_settings``, the datastore credentials...): keyword-only, compared by their spec data,
shown as their fields. Kept in ``runner.spec`` so that what the jobs layer returns (a job's ``limits``,
``resources``, ``distribution``) can be the objects the Python API takes."""

from __future__ import annotations

from typing import Any


def present(**fields: Any) -> dict[str, Any]:
    """The fields given a value (None: not given)."""
    return {k: v for k, v in fields.items() if v is not None}


class Entity:
    """Keyword-only value objects, compared by their spec data."""

    def _to_data(self) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self._to_data() == other._to_data())  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        data = self._to_data()
        fields = ", ".join(f"{k}={v!r}" for k, v in data.items()) if isinstance(data, dict) else repr(data)
        return f"{type(self).__name__}({fields})"
