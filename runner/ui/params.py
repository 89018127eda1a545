"""Query parameters, checked: a value a page or ``/api/...`` endpoint would not understand is a 400
that names the parameter, the value and what is allowed, never silently dropped (a script that asked
for ``status=faild`` must not get every job back).

    QUERY = {"status": choice(STATUSES, any_case=True), "name": text, "offset": offset}
    filters = checked(dict(request.query_params), QUERY)   # {"status": "Failed", "name": "", "offset": 0}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runner.errors import SpecError

Parse = Callable[[str, str], Any]  # (parameter, value) -> the value to use; raises QueryError


class QueryError(SpecError):
    """A query parameter the page or endpoint does not accept (HTTP 400)."""

    def __init__(self, parameter: str, value: str, allowed: Iterable[str], *, what: str) -> None:
        self.parameter, self.value, self.allowed = parameter, value, list(allowed)
        super().__init__(f"query parameter '{parameter}': {what} (got {value!r})", field=parameter,
                         hint="allowed: " + (", ".join(repr(a) for a in self.allowed) or "no parameters"))

    def as_json(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "value": self.value, "allowed": self.allowed}


def text(_parameter: str, value: str) -> str:
    return value.strip()


def offset(parameter: str, value: str) -> int:
    if value == "":
        return 0
    if not value.isdigit():
        raise QueryError(parameter, value, ["a whole number >= 0"], what="not a whole number >= 0")
    return int(value)


def choice(values: Iterable[str], *, any_case: bool = False, empty: bool = True) -> Parse:
    """One of ``values`` ("" too, meaning any, when ``empty``); with ``any_case`` ``failed`` is
    ``Failed`` (the canonical spelling is what the view uses and echoes)."""
    allowed = ([""] if empty else []) + list(values)
    by_key = {(v.lower() if any_case else v): v for v in allowed}

    def parse(parameter: str, value: str) -> str:
        found = by_key.get(value.lower() if any_case else value)
        if found is None:
            raise QueryError(parameter, value, allowed, what="not one of the allowed values")
        return found

    return parse


def checked(params: Mapping[str, str], accepted: Mapping[str, Parse], *,
            api: bool = True) -> dict[str, Any]:
    """Every parameter of ``accepted`` parsed (a missing one as ""). An unknown parameter is refused by
    the API (a misspelt filter); a page ignores it (a link may carry more)."""
    for name, value in params.items():
        if name not in accepted and api:
            raise QueryError(name, value, accepted, what="not a parameter of this page")
    return {name: parse(name, params.get(name, "")) for name, parse in accepted.items()}
