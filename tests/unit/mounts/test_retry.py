"""The one retry policy (mounts.retry): delays grow with jitter up to a cap, the total is bounded by
time since the first failure, progress starts a new window, the setting is read and checked, and the
Azure SDK's policy object is bent to the same bound."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from mounts.errors import MountsError, TransferFailed, is_no_space, mount_point, no_space_message
from mounts.retry import RETRY_TOTAL_ENV, Breaker, RetryPolicy, breaker_for, configure_sdk_retries
from mounts.transfer.state import FailureLog


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_delays_double_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay_s=0.25, max_delay_s=10.0)
    for retry, ceiling in [(0, 0.25), (1, 0.5), (3, 2.0), (6, 10.0), (40, 10.0)]:
        samples = [policy.delay(retry) for _ in range(200)]
        assert all(ceiling / 2 <= value <= ceiling for value in samples)
        assert len(set(samples)) > 100  # jittered, not one fixed value


def test_retries_stop_at_the_total_with_a_last_attempt_on_the_deadline() -> None:
    clock = FakeClock()
    retrying = RetryPolicy(total_s=120).start(sleep=clock.sleep, clock=clock)
    attempts = 1
    while retrying.wait():
        attempts += 1
    assert sum(clock.slept) == pytest.approx(120)  # the last sleep is cut to end on the deadline
    assert 12 <= attempts <= 40
    assert max(clock.slept) <= 10.0


def test_progress_starts_a_new_window() -> None:
    clock = FakeClock()
    retrying = RetryPolicy(total_s=5).start(sleep=clock.sleep, clock=clock)
    while retrying.wait():
        pass
    assert retrying.failing_for == pytest.approx(5)
    retrying.progressed()
    assert retrying.failing_for == 0 and retrying.wait()  # a later drop gets its own 5 s


def test_a_zero_total_never_retries_and_the_message_says_how_long_it_failed() -> None:
    clock = FakeClock()
    assert not RetryPolicy(total_s=0).start(sleep=clock.sleep, clock=clock).wait()
    retrying = RetryPolicy(total_s=3).start(sleep=clock.sleep, clock=clock)
    while retrying.wait():
        pass
    error = retrying.annotate(ConnectionError("read c/x.bin: refused"))
    assert isinstance(error, ConnectionError)
    assert "read c/x.bin: refused (still failing after" in str(error) and "over 3 s" in str(error)
    assert f"{RETRY_TOTAL_ENV}=3" in str(error)


def test_the_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RETRY_TOTAL_ENV, raising=False)
    assert RetryPolicy.from_env().total_s == 120
    monkeypatch.setenv(RETRY_TOTAL_ENV, "7.5")
    assert RetryPolicy.from_env().total_s == 7.5
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(RETRY_TOTAL_ENV, bad)
        with pytest.raises(MountsError, match=RETRY_TOTAL_ENV):
            RetryPolicy.from_env()


def test_the_azure_sdk_policy_is_bounded_by_the_same_total() -> None:
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                             "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
                             skip_instance_cache=True)
    assert configure_sdk_retries(fs, RetryPolicy(total_s=0.3, first_delay_s=0.1, max_delay_s=0.1))
    sdk = fs.service_client._config.retry_policy
    settings = {"count": 1, "total": sdk.total_retries}
    first = sdk.get_backoff_time(settings)
    assert 0.05 <= first <= 0.1 and settings["total"] > 0
    settings["runner_first_failure"] -= 1.0  # the total has passed
    assert sdk.get_backoff_time(settings) == 0 and settings["total"] == 0  # one last attempt, then out
    assert not configure_sdk_retries(object())


def test_a_full_disk_stops_the_transfer_and_names_the_place(tmp_path: Path) -> None:
    failures = FailureLog()
    failures.record("a.bin", ConnectionError("refused"))
    failures.disk_full("b.bin", no_space_message(tmp_path / "data"))
    failures.skip("c.bin")
    assert failures.stop.is_set()
    with pytest.raises(TransferFailed) as info:
        failures.raise_if_any("downloaded", 3)
    text = str(info.value)
    where = mount_point(tmp_path)
    assert text.startswith(f"3 of 3 file(s) could not be downloaded: no space left on {where}")
    assert "a.bin: ConnectionError: refused" in text and "1 not attempted" in text
    assert info.value.disk_full and info.value.failed == ["a.bin", "b.bin", "c.bin"]


def test_an_unreachable_storage_stops_after_three_files() -> None:
    failures = FailureLog()
    for name in ("a", "b"):
        failures.record(name, ConnectionError("refused"))
    assert not failures.stop.is_set()
    failures.record("c", TimeoutError("no data"))
    assert failures.stop.is_set() and failures.cause == "the storage stayed unreachable"


def test_no_space_is_recognised() -> None:
    assert is_no_space(OSError(errno.ENOSPC, "No space left on device"))
    assert is_no_space(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_no_space(OSError(errno.EIO, "I/O error")) and not is_no_space(ValueError())
    assert mount_point("/proc/self") == Path("/proc")


def test_once_a_request_spent_its_window_the_others_give_up_after_one_attempt() -> None:
    clock = FakeClock()
    breaker = Breaker()
    policy = RetryPolicy(total_s=10)
    first = policy.start(breaker, sleep=clock.sleep, clock=clock)
    while first.wait():
        pass
    later = policy.start(breaker, sleep=clock.sleep, clock=clock)
    assert not later.wait()  # the store is down: no second window
    later.succeeded()  # an answer came: retries are back
    assert policy.start(breaker, sleep=clock.sleep, clock=clock).wait()
    first = policy.start(breaker, sleep=clock.sleep, clock=clock)
    while first.wait():
        pass
    clock.now += 11  # long after the trip: a new request gets its whole window again
    assert policy.start(breaker, sleep=clock.sleep, clock=clock).wait()
    assert breaker_for("http://a") is breaker_for("http://a") is not breaker_for("http://b")
