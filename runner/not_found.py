"""azure.core's ``ResourceNotFoundError`` for what ``ml_client`` does not find, as azure.ai.ml raises it,
so the get-or-create of Azure's samples runs unchanged:

    from azure.core.exceptions import ResourceNotFoundError
    try:
        data_asset = ml_client.data.get(name="titanic", version="1")
    except ResourceNotFoundError:
        data_asset = ml_client.data.create_or_update(Data(name="titanic", version="1", path=...))

runner's lookups raise ``ResolveError`` (an unknown model, data asset, environment, component, datastore,
compute or job; a version or an output it does not have). The Python API's operations that look something
up (``get``, ``download``, ``archive``, ``restore``, ``stream``, ...: the names ``raises_not_found`` is
given) raise it again as a ``ResourceNotFound``: runner's ``ResolveError`` (the same message, hints, field
and exit code, so the CLI, which calls the same operations, prints what it printed) and azure.core's
``ResourceNotFoundError`` (``status_code`` 404, ``reason`` "Not Found"). Other errors pass unchanged.

azure.core costs ~0.1 s of imports, so it is imported only when such an error is raised: ``import runner``,
``MLClient(...)``, a lookup that finds what it looks for and the CLI's start never import it (nor does
``runner job validate``, which calls no operation). Without azure.core the ``ResolveError`` is raised as
it was. ``runner.not_found.ResourceNotFound`` is the class (imported on first use).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from runner.errors import ResolveError

T = TypeVar("T", bound=type)

_made: list[type[ResolveError]] = []  # the class, once made


def not_found_class() -> type[ResolveError] | None:
    """``ResourceNotFound``, made on first use (None: azure.core is not installed)."""
    if not _made:
        try:
            from azure.core.exceptions import ResourceNotFoundError  # ~0.1 s: only once something is missing
        except ImportError:
            return None

        class ResourceNotFound(ResolveError, ResourceNotFoundError):  # type: ignore[misc]
            """Something ``ml_client`` looked up is not there: runner's ``ResolveError`` and azure.core's
            ``ResourceNotFoundError`` (``status_code`` 404), as azure.ai.ml raises."""

        # pickled (and shown) by name: ``runner.not_found.ResourceNotFound``
        ResourceNotFound.__module__, ResourceNotFound.__qualname__ = __name__, "ResourceNotFound"
        globals()["ResourceNotFound"] = ResourceNotFound
        _made.append(ResourceNotFound)
    return _made[0]


def __getattr__(name: str) -> Any:
    """``from runner.not_found import ResourceNotFound``: the class, made on first use."""
    made = not_found_class() if name == "ResourceNotFound" else None
    if made is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return made


def as_not_found(err: ResolveError) -> ResolveError:
    """``err`` as a ``ResourceNotFound`` with all it says (message, hints, field, where); ``err`` itself
    when it is one already, or when azure.core is not installed."""
    made = not_found_class()
    if made is None or isinstance(err, made):
        return err
    found: Any = made(err.message)
    found.__dict__.update(err.__dict__)
    found.status_code, found.reason = 404, "Not Found"
    return found  # type: ignore[no-any-return]


def raises_not_found(*methods: str) -> Callable[[T], T]:
    """A class decorator: each of ``methods`` (its own or inherited) raises its ``ResolveError`` as a
    ``ResourceNotFound`` (see the module docstring)."""
    def wrap(cls: T) -> T:
        for name in methods:
            setattr(cls, name, _raising_not_found(getattr(cls, name)))
        return cls
    return wrap


def _raising_not_found(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ResolveError as err:
            found = as_not_found(err)
            if found is err:
                raise
            raise found.with_traceback(err.__traceback__) from err.__cause__  # one error, as it was raised
    return call
