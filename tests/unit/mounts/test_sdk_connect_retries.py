"""The Azure SDK behind adlfs gives up on a host name that does not resolve (a wrong account name) after a few
quick retries, while a connection refused, reset or closed before any answer (a storage restart, even before
this process had an answer), a read timeout, 5xx and throttling keep the time window of ``mounts.retry``; and
the filesystems fsspec makes for the abfs/az/abfss URLs the runner hands it (a chain's link included;
``mounts.stores.azure_urls``) are configured so too.

Nothing here leaves this machine: the endpoints are 127.0.0.1 ports nothing listens on, or a listener of the
test's own that closes every connection it accepts. The counts are asserted, never a duration."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import fsspec
import pytest
from fsspec.registry import _registry, known_implementations

from mounts import retry
from mounts.retry import (
    SDK_CONNECT_RETRIES,
    SDK_CONNECT_TIMEOUT_S,
    RetryPolicy,
    configure_sdk_retries,
    has_answered,
    is_connect_failure,
    is_name_failure,
)
from mounts.stores.azure_account import account_from_fs
from mounts.stores.azure_urls import AZURE_PROTOCOLS, retrying_url, use_retrying_adlfs

_KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"  # base64, never sent anywhere
QUICK = RetryPolicy(total_s=0.5, first_delay_s=0.01, max_delay_s=0.02)  # a short window, short delays


@pytest.fixture(autouse=True)
def _no_answers_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint has answered this process (``mounts.retry.has_answered``): a closed port may be one that
    another test's listener had."""
    monkeypatch.setattr(retry, "_ANSWERED", set())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connection(port: int) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")


def _adlfs(port: int, host: str = "127.0.0.1") -> Any:
    from adlfs import AzureBlobFileSystem

    return AzureBlobFileSystem(connection_string=_connection(port).replace("127.0.0.1", host),
                               skip_instance_cache=True)


@contextlib.contextmanager
def _hanging_up() -> Iterator[int]:
    """A loopback port whose listener accepts every connection and closes it at once, before any answer:
    a connection made, then lost (as a proxy in front of a stopped service does)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # a closed listener does not wake an accept: the loop looks at ``stop``
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def _retries_per_request(fs: Any) -> list[int]:
    """After ``fs`` was used: how many times each request the SDK sent was retried (its retry settings,
    one dict per request, counted by the policy's ``increment``)."""
    sdk = fs.service_client._config.retry_policy
    counted: dict[int, list[Any]] = {}
    increment = sdk.increment

    def recording(settings: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
        retried = bool(increment(settings, *args, **kwargs))
        counted.setdefault(id(settings), [settings, 0])[1] += retried
        return retried

    sdk.increment = recording
    with pytest.raises(Exception) as failure:  # noqa: PT011 - the SDK's error, whichever it is
        fs.info("c/a.txt")
    assert "ServiceRequestError" in {cls.__name__ for cls in type(failure.value).__mro__}, failure.value
    assert counted, "no request was sent"
    return [retries for _, retries in counted.values()]


def test_the_policy_has_few_connect_retries_a_connect_timeout_and_a_time_window() -> None:
    fs = _adlfs(_closed_port())
    assert configure_sdk_retries(fs, QUICK)
    sdk = fs.service_client._config.retry_policy
    assert sdk.connect_retries == SDK_CONNECT_RETRIES <= 3
    assert min(sdk.total_retries, sdk.read_retries, sdk.status_retries) >= 1000  # time ends those
    assert fs.service_client._config.transport.connection_config.timeout == SDK_CONNECT_TIMEOUT_S <= 10
    container = fs.service_client.get_container_client("c")  # its clients share the policy and transport
    assert container._config.retry_policy is sdk
    assert configure_sdk_retries(fs, RetryPolicy(total_s=0))  # never retry: connect failures neither
    assert fs.service_client._config.retry_policy.connect_retries == 0


def test_a_host_name_that_does_not_resolve_is_retried_only_the_connect_retries(
        unresolvable_host: str) -> None:
    fs = _adlfs(_closed_port(), unresolvable_host)
    configure_sdk_retries(fs, QUICK)
    assert set(_retries_per_request(fs)) == {SDK_CONNECT_RETRIES}


def test_a_refused_connection_before_any_answer_keeps_the_time_window() -> None:
    fs = _adlfs(_closed_port())  # a fresh process meeting a storage restart: nothing answered it yet
    configure_sdk_retries(fs, QUICK)
    retries = _retries_per_request(fs)
    assert min(retries) > SDK_CONNECT_RETRIES + 2, retries  # retried until the window ended


def test_a_connection_closed_once_made_keeps_the_time_window() -> None:
    with _hanging_up() as port:
        fs = _adlfs(port)
        configure_sdk_retries(fs, QUICK)
        retries = _retries_per_request(fs)
    assert min(retries) > SDK_CONNECT_RETRIES + 2, retries  # retried until the window ended


def test_what_counts_as_a_connection_never_made() -> None:
    from azure.core.exceptions import (
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    assert is_connect_failure(ServiceRequestTimeoutError("connect timeout"))
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as refused:
            raise ServiceRequestError("Cannot connect to host", error=refused) from refused
    except ServiceRequestError as wrapped:
        assert is_connect_failure(wrapped)
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except OSError as unknown:
            raise ServiceRequestError("Cannot connect to host", error=unknown) from unknown
    except ServiceRequestError as wrapped:
        assert is_connect_failure(wrapped)
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except OSError as reset:
            raise ServiceRequestError("reset", error=reset) from reset
    except ServiceRequestError as wrapped:
        assert not is_connect_failure(wrapped)
    assert not is_connect_failure(ServiceResponseError("read"))
    assert not is_connect_failure(ServiceResponseTimeoutError("read timeout"))


def test_what_counts_as_a_host_name_that_does_not_resolve() -> None:
    from azure.core.exceptions import ServiceRequestError

    for cause in (socket.gaierror(-2, "Name or service not known"), ConnectionRefusedError(111, "refused")):
        try:
            try:
                raise cause
            except OSError as inner:
                raise ServiceRequestError("Cannot connect to host", error=inner) from inner
        except ServiceRequestError as wrapped:
            assert is_name_failure(wrapped) == isinstance(cause, socket.gaierror), cause


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """fsspec's registry for the Azure protocols as it was, afterwards."""
    for protocol in AZURE_PROTOCOLS:
        monkeypatch.delitem(_registry, protocol, raising=False)
        monkeypatch.setitem(known_implementations, protocol, dict(known_implementations[protocol]))


@pytest.mark.usefixtures("registry")
def test_fsspec_makes_retrying_azure_filesystems_for_urls() -> None:
    """For the URLs the runner hands it (``retrying_url``: its runner-only protocol names)."""
    for protocol in AZURE_PROTOCOLS:
        url, _ = retrying_url(f"{protocol}://c/a.txt", {})
        fs, path = fsspec.core.url_to_fs(url, connection_string=_connection(_closed_port()),
                                         skip_instance_cache=True)
        assert fs.service_client._config.retry_policy.connect_retries == SDK_CONNECT_RETRIES, protocol
        assert account_from_fs(fs) is not None  # the lean client still serves it
        assert path == "c/a.txt" and fs.unstrip_protocol(path) == "abfs://c/a.txt"  # adlfs' name, as before
    url, options = retrying_url("simplecache::abfs://c/a.txt",
                                {"abfs": {"connection_string": _connection(_closed_port())}})
    chained, _ = fsspec.core.url_to_fs(url, **options)
    assert chained.fs.service_client._config.retry_policy.connect_retries == SDK_CONNECT_RETRIES
    assert all(fsspec.get_filesystem_class(p).__name__ == "AzureBlobFileSystem" for p in AZURE_PROTOCOLS)


@pytest.mark.usefixtures("registry")
def test_a_filesystem_registered_by_someone_else_is_left_alone() -> None:
    class Elsewhere(fsspec.AbstractFileSystem):
        protocol = "abfs"

    fsspec.register_implementation("abfs", Elsewhere, clobber=True)
    use_retrying_adlfs()
    assert retrying_url("abfs://c/a.txt", {}) == ("abfs://c/a.txt", {})  # read with Elsewhere
    assert fsspec.get_filesystem_class("abfs") is Elsewhere
    url, _ = retrying_url("az://c/a.txt", {})
    assert fsspec.get_filesystem_class(url.split("://")[0]).__name__ == "RetryingAzureBlobFileSystem"
    assert fsspec.get_filesystem_class("az").__name__ == "AzureBlobFileSystem"  # adlfs' own, still


@contextlib.contextmanager
def _answering_once() -> Iterator[int]:
    """A loopback port whose listener answers one request (404, then closes the connection) and then stops
    listening: a service that answered, then went away (an outage, not a wrong endpoint)."""
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


def test_a_service_that_answered_before_has_its_refusals_ridden_out() -> None:
    with _answering_once() as port:
        fs = _adlfs(port)
        configure_sdk_retries(fs, QUICK)
        with pytest.raises(Exception):  # noqa: B017,PT011 - a 404 in whichever form adlfs gives it
            fs.info("c/a.txt")
        assert has_answered(f"http://127.0.0.1:{port}")  # noted for the SDK and the lean client alike
    retries = _retries_per_request(fs)  # the listener is gone: refused from now on
    assert min(retries) > SDK_CONNECT_RETRIES + 2, retries  # retried until the window ended, as an outage
