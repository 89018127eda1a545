"""The lean Azure client (mounts.stores.azure over mounts.stores.lean_http) tells a connection that cannot be
made (refused, host name not resolved) from one lost once made, and applies the connect rule of
``mounts.retry``: a host name that does not resolve, of an endpoint that has never answered this process, is
tried a few times, then one error names it; a refused connection is ridden out as an outage in the window,
from the first request on (a storage restart meeting a fresh process). Loopback only: closed 127.0.0.1
ports, a listener of the test's own; counts are asserted, never a duration."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mounts import retry
from mounts.retry import SDK_CONNECT_RETRIES, RetryPolicy, has_answered
from mounts.stores.azure import AzureAccount, AzureBlobStore
from mounts.stores.lean_http import ConnectFailed, LeanConnection

QUICK = RetryPolicy(total_s=0.5, first_delay_s=0.01, max_delay_s=0.02)  # a short window, short delays
KEY = b"key-never-sent-anywhere"


@pytest.fixture(autouse=True)
def _no_answers_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_ANSWERED", set())


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connection the client tries to make, as (host, port)."""
    made: list[tuple[str, int]] = []
    create = socket.create_connection

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append(address)
        return create(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    return made


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _store(port: int, host: str = "127.0.0.1") -> AzureBlobStore:
    return AzureBlobStore(AzureAccount(f"http://{host}:{port}/devstoreaccount1", "devstoreaccount1", KEY,
                                       "sv=2022&sig=SECRETSIG"), retry=QUICK)


def test_a_refused_connection_is_a_connection_not_made_naming_host_and_port() -> None:
    port = _closed_port()
    with pytest.raises(ConnectFailed) as failure:
        LeanConnection("127.0.0.1", port).request("GET", "/", {})
    assert isinstance(failure.value, ConnectionError)
    assert f"cannot connect to 127.0.0.1:{port}" in str(failure.value), failure.value


def test_a_host_name_that_does_not_resolve_is_a_connection_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    with pytest.raises(ConnectFailed, match="cannot connect to acct.blob.example.invalid:443: Name or servi"):
        LeanConnection("acct.blob.example.invalid", 443, https=True).request("GET", "/", {})


def test_a_host_name_that_never_resolved_is_tried_a_few_times_then_named(
        connects: list[Any], unresolvable_host: str) -> None:
    host, port = unresolvable_host, _closed_port()
    with pytest.raises(ConnectionError) as failure:
        _store(port, host).stat("c/a.txt")
    assert len(connects) == 1 + SDK_CONNECT_RETRIES
    text = str(failure.value)
    assert text.startswith(f"stat c/a.txt: cannot connect to {host}:{port}"), text
    assert f"http://{host}:{port}/devstoreaccount1" in text, text
    assert f"tried {1 + SDK_CONNECT_RETRIES} times" in text, text
    assert "SECRETSIG" not in text and KEY.decode() not in text, text


def test_a_refused_connection_before_any_answer_is_ridden_out_then_named(connects: list[Any]) -> None:
    port = _closed_port()  # a fresh process whose first request meets a storage restart
    with pytest.raises(ConnectionError) as failure:
        _store(port).stat("c/a.txt")
    assert len(connects) > 1 + SDK_CONNECT_RETRIES + 2, connects  # retried until the window ended
    text = str(failure.value)
    assert text.startswith(f"stat c/a.txt: cannot connect to 127.0.0.1:{port}"), text
    assert "still failing after" in text, text
    assert f"http://127.0.0.1:{port}/devstoreaccount1 never answered" in text, text
    assert "SECRETSIG" not in text and KEY.decode() not in text, text


@contextlib.contextmanager
def _answering_once() -> Iterator[int]:
    """A loopback port whose listener answers one request (404, then closes) and then stops listening: a
    service that answered, then went away (an outage, not a wrong endpoint)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])

    def serve() -> None:
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            with client:
                client.recv(65536)
                client.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()
        thread.join(5)


def test_once_the_service_answered_its_refusals_are_an_outage_ridden_out(connects: list[Any]) -> None:
    with _answering_once() as port:
        store = _store(port)
        with pytest.raises(FileNotFoundError):
            store.stat("c/a.txt")
    assert has_answered(f"http://127.0.0.1:{port}")
    del connects[:]
    with pytest.raises(ConnectionError) as failure:
        store.stat("c/a.txt")  # the listener is gone: refused from now on
    assert len(connects) > 1 + SDK_CONNECT_RETRIES + 2, connects  # retried until the window ended
    assert "still failing after" in str(failure.value), failure.value
