"""The connect rule of the one retry policy (mounts.retry), pure: a host name that does not resolve (a wrong
account name), of an endpoint that has never answered this process, is tried ``SDK_CONNECT_RETRIES`` more
times, a fraction of a second apart, then fails with one error naming the endpoint; a connection refused or
lost (a storage restart) is an outage ridden out for the whole window from the first request, whether or
not the endpoint answered before (any response, per host and port, noted by the lean client and the Azure
SDK path alike). Delays are a fake clock's: nothing here sleeps."""

from __future__ import annotations

import socket

import pytest

from mounts import retry
from mounts.retry import (
    RETRY_TOTAL_ENV,
    SDK_CONNECT_RETRIES,
    RetryPolicy,
    configure_sdk_retries,
    endpoint_key,
    has_answered,
    note_answered,
)

ENDPOINT = "http://127.0.0.1:10999/devstoreaccount1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_answers_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint has answered this process, whatever tests ran before in it."""
    monkeypatch.setattr(retry, "_ANSWERED", set())


def _attempts(policy: RetryPolicy, clock: FakeClock, *, unresolved: bool, endpoint: str = ENDPOINT) -> int:
    retrying = policy.start(endpoint=endpoint, sleep=clock.sleep, clock=clock)
    attempts = 1
    while retrying.wait(unresolved=unresolved):
        attempts += 1
    return attempts


def test_a_name_that_never_resolved_gets_a_few_quick_retries() -> None:
    clock = FakeClock()
    assert _attempts(RetryPolicy(total_s=120), clock, unresolved=True) == 1 + SDK_CONNECT_RETRIES
    assert sum(clock.slept) < 2  # a fraction of a second apart, not the window


def test_once_it_answered_a_name_not_resolved_is_an_outage_ridden_out_in_the_window() -> None:
    note_answered("http://127.0.0.1:10999/another-account/")  # the same service: host and port
    clock = FakeClock()
    assert _attempts(RetryPolicy(total_s=120), clock, unresolved=True) > 10
    assert sum(clock.slept) == pytest.approx(120)


def test_a_refused_or_lost_connection_keeps_the_window_even_before_any_answer() -> None:
    clock = FakeClock()  # refused, reset, a timeout, a 503: a storage restart, transient on a real network
    assert _attempts(RetryPolicy(total_s=30), clock, unresolved=False) > 5
    assert sum(clock.slept) == pytest.approx(30)


def test_a_zero_total_never_retries_a_connection_either() -> None:
    assert _attempts(RetryPolicy(total_s=0), FakeClock(), unresolved=True) == 1


def test_a_request_without_an_endpoint_keeps_the_window() -> None:
    clock = FakeClock()
    retrying = RetryPolicy(total_s=20).start(sleep=clock.sleep, clock=clock)
    while retrying.wait(unresolved=True):
        pass
    assert sum(clock.slept) == pytest.approx(20)


def test_a_window_spent_on_an_endpoint_that_never_answered_says_so() -> None:
    clock = FakeClock()
    retrying = RetryPolicy(total_s=30).start(endpoint=ENDPOINT, sleep=clock.sleep, clock=clock)
    while retrying.wait():
        pass
    text = str(retrying.annotate(ConnectionError("stat c/a.txt: cannot connect to 127.0.0.1:10999")))
    assert "still failing after" in text and f"{RETRY_TOTAL_ENV}=30" in text, text
    assert f"{ENDPOINT} never answered" in text and "check" in text, text
    note_answered(ENDPOINT)
    answered = RetryPolicy(total_s=30).start(endpoint=ENDPOINT, sleep=clock.sleep, clock=clock)
    while answered.wait():
        pass
    assert "never answered" not in str(answered.annotate(ConnectionError("stat c/a.txt: refused")))


def test_the_error_names_the_endpoint_and_how_often_it_was_tried_never_a_secret() -> None:
    clock = FakeClock()
    endpoint = "https://acct.blob.core.windows.net/?sv=2022-11-02&sig=SECRETSIG"
    retrying = RetryPolicy(total_s=120).start(endpoint=endpoint, sleep=clock.sleep, clock=clock)
    while retrying.wait(unresolved=True):
        pass
    refused = "stat c/a.txt: cannot connect to acct.blob.core.windows.net:443: Connection refused"
    error = retrying.annotate(ConnectionError(refused))
    text = str(error)
    assert isinstance(error, ConnectionError)
    assert text.startswith("stat c/a.txt: cannot connect to acct.blob.core.windows.net:443: "), text
    assert f"tried {1 + SDK_CONNECT_RETRIES} times" in text and "https://acct.blob.core.windows.net" in text
    assert "never answered" in text and "check" in text, text
    assert "SECRETSIG" not in text and "sig=" not in text and RETRY_TOTAL_ENV not in text, text


def test_endpoints_are_told_apart_by_host_and_port() -> None:
    assert endpoint_key("http://127.0.0.1:10000/devstoreaccount1") == endpoint_key("http://127.0.0.1:10000/x/")
    assert endpoint_key("https://Acct.blob.core.windows.net") == endpoint_key("https://acct.blob.core.windows"
                                                                              ".net:443/c/b?sig=x")
    assert endpoint_key("http://127.0.0.1:10000") != endpoint_key("http://127.0.0.1:10001")
    assert endpoint_key("http://a.example") != endpoint_key("https://a.example")  # ports 80 and 443
    assert not has_answered("http://127.0.0.1:10000")
    note_answered("http://127.0.0.1:10000/devstoreaccount1")
    assert has_answered("http://127.0.0.1:10000") and not has_answered("http://127.0.0.1:10001")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connect_retries(port: int, host: str = "127.0.0.1") -> int:
    """How often the Azure SDK behind adlfs retried its first request to ``host:port`` (nothing listens)."""
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                             f"AccountKey=a2V5;BlobEndpoint=http://{host}:{port}/devstoreaccount1;",
                             skip_instance_cache=True)
    configure_sdk_retries(fs, RetryPolicy(total_s=0.5, first_delay_s=0.01, max_delay_s=0.02))
    sdk = fs.service_client._config.retry_policy
    counted: list[bool] = []
    increment = sdk.increment

    def recording(settings: dict[str, object], *args: object, **kwargs: object) -> bool:
        counted.append(bool(increment(settings, *args, **kwargs)))
        return counted[-1]

    sdk.increment = recording
    with pytest.raises(Exception):  # noqa: B017,PT011 - the SDK's ServiceRequestError, in adlfs' wrapping
        fs.info("c/a.txt")
    return sum(counted)


def test_the_sdk_path_and_the_lean_client_share_what_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    port, host = _closed_port(), "acct.blob.example.invalid"
    lookup = socket.getaddrinfo

    def unknown(name: object, *args: object, **kwargs: object) -> object:
        if name == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return lookup(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    assert _connect_retries(port, host) == SDK_CONNECT_RETRIES  # never answered: a wrong account, said fast
    note_answered(f"http://{host}:{port}/devstoreaccount1")  # as the lean client notes a response
    assert _connect_retries(port, host) > SDK_CONNECT_RETRIES + 2  # answered this process: an outage


def test_the_sdk_path_rides_out_a_refused_connection_before_any_answer() -> None:
    assert _connect_retries(_closed_port()) > SDK_CONNECT_RETRIES + 2  # a storage restart, from the start
