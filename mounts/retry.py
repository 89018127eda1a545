"""One retry policy for every request to a store: downloads, uploads, mount reads and listings, and the
Azure SDK requests behind adlfs (planning's ``info``, rw_mount's listings).

A request that fails with a transient error (connection refused or reset, a timeout, HTTP 408, 429,
500, 502, 503, 504) is retried with exponential backoff and jitter until ``RUNNER_RETRY_TOTAL_S``
seconds (default 120) have passed since its first failure; then the error is raised. The default is
about what the Azure SDK's own policy waits (3 retries 15 s + 3^n s apart, ±3 s, plus its timeouts),
so an outage of a minute or two is ridden out and a longer one fails once, clearly. Progress resets
the clock: a long read whose connection drops is resumed from the byte it reached and gets a new window.

Delays double from ``first_delay_s`` up to ``max_delay_s``; each is drawn from the upper half of that
("equal jitter"), so many workers hit by the same outage do not come back in lockstep, and none waits
longer than ``max_delay_s`` after the store is back.

A connection that cannot be made (refused, reset before any answer, no answer within
``SDK_CONNECT_TIMEOUT_S``) is transient like the rest, from the very first request: a fresh worker or mount
process that meets a storage restart rides it out in the window, as one that had answers before does. Only a
host name that does not resolve (a wrong account name), for an endpoint (host and port) that has not answered
this process (``has_answered``: any response, to the lean client or the Azure SDK), is tried
``SDK_CONNECT_RETRIES`` more times, a fraction of a second apart, and then fails naming the endpoint; a wrong
key or container is an answer (403, 404) and fails at once. The lean client (``mounts.stores.azure``) passes
``unresolved`` to ``Retrying.wait``; the Azure SDK behind adlfs (``configure_sdk_retries``; every adlfs
filesystem fsspec makes from a URL: ``mounts.stores.azure_urls``) applies the same rule.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mounts.errors import MountsError

log = logging.getLogger(__name__)

RETRY_TOTAL_ENV = "RUNNER_RETRY_TOTAL_S"
DEFAULT_TOTAL_S = 120.0
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# the lean client's and the SDK's, for an endpoint that has not answered this process:
SDK_CONNECT_RETRIES = 2  # a host name that does not resolve: tried 3 times in all, then it fails
SDK_CONNECT_TIMEOUT_S = 5.0  # no answer to a connection attempt for this long: it cannot be made
# what the SDK wraps when a connection could not be made: aiohttp's (refused, name not resolved, TLS
# handshake: ClientConnectorError and its subclasses; no answer in time), azure-core's for a connect
# timeout, urllib3's and the socket module's (the SDK's synchronous transport)
_CONNECT_FAILURES = frozenset({"ClientConnectorError", "ConnectionTimeoutError", "ServiceRequestTimeoutError",
                               "NewConnectionError", "NameResolutionError", "ConnectTimeoutError",
                               "ConnectionRefusedError", "gaierror"})
# of those, a host name that does not resolve (urllib3's, the socket module's, aiohttp's newer own class)
_NAME_FAILURES = frozenset({"NameResolutionError", "gaierror", "ClientConnectorDNSError"})


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a failing request is tried again (see the module docstring)."""

    total_s: float = DEFAULT_TOTAL_S  # give up this long after the first failure (0: never retry)
    first_delay_s: float = 0.25
    max_delay_s: float = 10.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy ``RUNNER_RETRY_TOTAL_S`` asks for (read when a store is opened, not at import)."""
        text = os.environ.get(RETRY_TOTAL_ENV, "").strip()
        if not text:
            return cls()
        try:
            total = float(text)
        except ValueError:
            total = math.nan
        if not math.isfinite(total) or total < 0:
            raise MountsError(f"{RETRY_TOTAL_ENV}={text!r} is not a number of seconds >= 0 (the longest a "
                              f"failing storage request is retried; default {DEFAULT_TOTAL_S:g})")
        return cls(total_s=total)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first), with jitter."""
        ceiling = min(self.max_delay_s, self.first_delay_s * 2 ** min(retry, 30))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def start(self, breaker: Breaker | None = None, *, endpoint: str | None = None,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
              ) -> Retrying:
        """The retry state of one operation on ``endpoint`` (a URL: its host and port are what answers)."""
        return Retrying(self, sleep, clock, breaker, endpoint)


class Breaker:
    """What the requests to one store learned together: once one of them failed for its whole retry
    window, the store is taken as down and the others give up after one attempt instead of waiting
    out a window each (a job reading a file through a mount would otherwise wait one window per
    read), until a request succeeds, or for ``total_s`` after it tripped (then retries are back)."""

    def __init__(self) -> None:
        self._tripped_at: float | None = None

    def is_open(self, now: float, total_s: float) -> bool:
        tripped = self._tripped_at
        return tripped is not None and now - tripped < max(total_s, 1.0)

    def trip(self, now: float) -> None:
        self._tripped_at = now

    def reset(self) -> None:
        if self._tripped_at is not None:
            self._tripped_at = None


_BREAKERS: dict[str, Breaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(endpoint: str) -> Breaker:
    """The breaker shared by every store object of ``endpoint`` in this process (a job's inputs,
    outputs and mounts of the same account learn of an outage once)."""
    with _BREAKERS_LOCK:
        return _BREAKERS.setdefault(endpoint, Breaker())


_ANSWERED: set[str] = set()  # ``endpoint_key``s of the endpoints that answered this process


def endpoint_key(url: str) -> str:
    """What answers for ``url``: its host (lower case) and port (80 or 443 when it names none)."""
    split = urlsplit(url)
    port = split.port or (443 if split.scheme.lower() == "https" else 80)
    return f"{(split.hostname or '').lower()}:{port}"


def note_answered(url: str) -> None:
    """The endpoint of ``url`` answered a request (any response): from now on, in this process, a
    connection to it that cannot be made is an outage, ridden out in the window, not a wrong endpoint."""
    key = endpoint_key(url)
    if key not in _ANSWERED:
        _ANSWERED.add(key)


def has_answered(url: str) -> bool:
    return endpoint_key(url) in _ANSWERED


def endpoint_label(url: str) -> str:
    """``url`` as an error may show it: scheme, host, port and path; no query (a SAS), no user info."""
    split = urlsplit(url)
    host = split.hostname or ""
    return f"{split.scheme}://{host}{f':{split.port}' if split.port else ''}{split.path.rstrip('/')}"


_NEVER = (" never answered: check that it is the storage account's endpoint and that the service there is "
          "running and reachable from this machine")


class Retrying:
    """The retry state of one operation::

        retrying = policy.start()
        while True:
            try:
                return attempt()
            except ConnectionError:
                if not retrying.wait():
                    raise
    """

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None], clock: Callable[[], float],
                 breaker: Breaker | None = None, endpoint: str | None = None) -> None:
        self.policy = policy
        self._sleep, self._clock = sleep, clock
        self._breaker = breaker
        self._endpoint = endpoint
        self.retries = 0
        self.unreachable = False  # it gave up: a connection to an endpoint that never answered
        self._first_failure: float | None = None

    @property
    def failing_for(self) -> float:
        """Seconds since the first failure not followed by progress (0 when none)."""
        return 0.0 if self._first_failure is None else self._clock() - self._first_failure

    def wait(self, *, unresolved: bool = False) -> bool:
        """After a transient failure: sleep before the next attempt and return True, or return False
        when the total is spent (the caller raises). The last attempt falls on the deadline itself.
        ``unresolved``: the endpoint's host name did not resolve; for an endpoint that has not answered this
        process it is tried ``SDK_CONNECT_RETRIES`` more times, then given up (a wrong account name)."""
        if unresolved and self._endpoint is not None and not has_answered(self._endpoint):
            if self.retries >= (SDK_CONNECT_RETRIES if self.policy.total_s > 0 else 0):
                self.unreachable = True
                return False
            self._sleep(self.policy.delay(self.retries))
            self.retries += 1
            return True
        now = self._clock()
        if self._first_failure is None:
            self._first_failure = now
            if self._breaker is not None and self._breaker.is_open(now, self.policy.total_s):
                return False  # another request just spent a whole window on this store: it is down
        remaining = self._first_failure + self.policy.total_s - now
        if remaining <= 0:
            if self._breaker is not None and self.retries:
                self._breaker.trip(now)
            return False
        self._sleep(min(self.policy.delay(self.retries), remaining))
        self.retries += 1
        return True

    def succeeded(self) -> None:
        """The operation got an answer: the store is up (whatever an earlier request concluded)."""
        if self._breaker is not None:
            self._breaker.reset()

    def annotate(self, error: OSError) -> OSError:
        """``error`` (its type kept: the transfer engine counts a ``ConnectionError`` as "the storage is
        unreachable") saying how long the store failed, once the retries are spent, or, for an endpoint
        that never answered, how often it was tried (its URL without a query: never a SAS)."""
        if self.unreachable and self._endpoint is not None:
            label = endpoint_label(self._endpoint)
            error.args = (f"{error} (tried {self.retries + 1} times; {label}{_NEVER})",)
        elif self.retries:
            never = (f"; {endpoint_label(self._endpoint)}{_NEVER}"
                     if self._endpoint is not None and not has_answered(self._endpoint) else "")
            error.args = (f"{error} (still failing after {self.retries} retries over "
                          f"{self.failing_for:.0f} s; {RETRY_TOTAL_ENV}={self.policy.total_s:g}{never})",)
        return error

    def progressed(self) -> None:
        """The operation moved forward (bytes arrived): the next failure starts a new window."""
        self._first_failure = None
        self.retries = 0
        self.succeeded()


def configure_sdk_retries(fs: Any, policy: RetryPolicy | None = None) -> bool:
    """Make the Azure SDK pipeline behind an adlfs filesystem retry like the lean client: the same
    delays, bounded by the same total time instead of the SDK's count (3 retries ~15-24 s apart), a
    connection that cannot be made included (a connection attempt that has no answer within
    ``SDK_CONNECT_TIMEOUT_S``, the SDK's: 20 s, is one), except for a host name that does not resolve
    (``is_name_failure``) of a service that never answered this process: ``SDK_CONNECT_RETRIES`` retries.

    The SDK keeps one retry policy object per service client, shared by every container and blob
    client made from it (``azure.storage.blob._shared.policies``), as is its transport; its
    ``get_backoff_time`` is asked before each sleep with the request's retry ``settings``, which also decide
    when to stop (``settings["total"]``), and its ``increment`` counts each failure against ``connect``
    (any ``ServiceRequestError``), ``read`` or ``status``. Returns False (nothing changed) for anything else.
    """
    client = getattr(fs, "service_client", None)
    config = getattr(client, "_config", None)
    retry = getattr(config, "retry_policy", None)
    if retry is None or not hasattr(retry, "get_backoff_time") or not hasattr(retry, "total_retries"):
        return False
    policy = policy or RetryPolicy.from_env()
    clock = time.monotonic

    def backoff(settings: dict[str, Any]) -> float:
        first = settings.setdefault("runner_first_failure", clock())
        remaining = first + policy.total_s - clock()
        if remaining <= 0:
            settings["total"] = 0  # the next failure exhausts the retries: one last attempt now
            return 0.0
        return min(policy.delay(max(int(settings.get("count", 1)) - 1, 0)), remaining)

    increment = getattr(retry, "_runner_increment", retry.increment)  # the SDK's (configured once)
    service_url = getattr(client, "url", None)

    def counted(settings: dict[str, Any], request: Any, response: Any = None, error: Any = None) -> bool:
        url = _url_of(request) or service_url
        if response is not None and url:
            note_answered(url)  # a status to retry (503, 429): the service is there
        if error is not None and "ServiceRequestError" in _names(error) and (
                url and has_answered(url) or not is_name_failure(error)):
            # the SDK counts it as a connection never made; only a host name that does not resolve, of a
            # service that never answered this process (a wrong account name), is: the rest (refused, reset,
            # no answer in time: a storage restart) is transient, a read's, in the window
            settings["connect"] += 1
            settings["read"] -= 1
        return bool(increment(settings, request, response=response, error=error))

    unbounded = 0 if policy.total_s <= 0 else 10_000  # time, not a count, ends the retries
    for name in ("total_retries", "read_retries", "status_retries"):
        setattr(retry, name, unbounded)
    retry.connect_retries = min(SDK_CONNECT_RETRIES, unbounded)
    retry.get_backoff_time = backoff
    retry._runner_increment, retry.increment = increment, counted
    _note_answers(retry, service_url)
    connection = getattr(getattr(config, "transport", None), "connection_config", None)
    if connection is not None:
        connection.timeout = SDK_CONNECT_TIMEOUT_S
    return True


def _note_answers(retry: Any, service_url: str | None) -> None:
    """Make the SDK's retry policy note (``note_answered``) that the endpoint of a request answered it: from
    then on a connection to it that cannot be made is an outage, ridden out in the window, for the SDK and
    the lean client alike (``configure_sdk_retries``)."""
    import inspect  # (an SDK client is being configured: its imports dwarf this one)

    send = getattr(retry, "_runner_send", retry.send)  # the SDK's (configured once)

    def noted(request: Any) -> None:
        if url := _url_of(getattr(request, "http_request", None)) or service_url:
            note_answered(url)

    async def answered_async(request: Any) -> Any:  # adlfs' (aio) clients
        response = await send(request)
        noted(request)
        return response

    def answered(request: Any) -> Any:
        response = send(request)
        noted(request)
        return response

    retry._runner_send = send
    retry.send = answered_async if inspect.iscoroutinefunction(send) else answered


def is_connect_failure(error: BaseException) -> bool:
    """Whether an Azure SDK error is a connection that could not be made (refused, host not found, no
    answer within the connect timeout), read from it and what it wraps (``inner_exception``, its cause),
    by class name (no SDK imported): one closed or reset once made is not."""
    return _wraps(error, _CONNECT_FAILURES)


def is_name_failure(error: BaseException) -> bool:
    """Whether an Azure SDK error is a host name that does not resolve (``is_connect_failure``'s way)."""
    return _wraps(error, _NAME_FAILURES)


def sdk_gave_up(error: BaseException) -> str | None:
    """How a request of the Azure SDK behind adlfs failed once its retries (``configure_sdk_retries``) were
    spent, read by class name (no SDK imported): ``"unreachable"`` (a connection not made, or lost before an
    answer: ``ServiceRequestError``, ``ServiceResponseError``), ``"status"`` (a transient status it kept
    answering: 408, 429, 5xx), or None (anything else: a 403, a 404, not the SDK's). The transfer engine
    counts the first two towards stopping a many-file transfer early, as it counts the lean client's."""
    names = _names(error)
    if names & {"ServiceRequestError", "ServiceResponseError"}:
        return "unreachable"
    if "HttpResponseError" in names and getattr(error, "status_code", None) in TRANSIENT_STATUS:
        return "status"
    return None


def _wraps(error: BaseException, names: frozenset[str]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _names(current) & names:
            return True
        inner = getattr(current, "inner_exception", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__ or current.__context__
    return False


def _url_of(request: Any) -> str | None:
    """The URL an SDK ``HttpRequest`` is sent to (None for anything else)."""
    url = getattr(request, "url", None)
    return url if isinstance(url, str) and "://" in url else None


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}
