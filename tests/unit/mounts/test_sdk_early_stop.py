"""A many-file transfer through the Azure SDK path (``FsspecStore`` over adlfs, as ``RUNNER_TRANSFER_GENERIC``
or a store the lean client does not sign for makes it) stops once three files failed for the same
unreachable reason, as one through the lean client does: the rule is the transfer engine's
(``mounts.transfer.state.FailureLog``), and the SDK's errors are read by ``mounts.retry.sdk_gave_up``.
Loopback only (a 127.0.0.1 port nothing listens on); counts are asserted, never a duration."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from mounts import retry
from mounts.errors import TransferFailed
from mounts.retry import RetryPolicy, configure_sdk_retries, sdk_gave_up
from mounts.stores.base import RemoteFile
from mounts.stores.fsspec_store import FsspecStore
from mounts.transfer.downloader import download_files
from mounts.transfer.state import KEPT_FAILING, UNREACHABLE, FailureLog

QUICK = RetryPolicy(total_s=0.3, first_delay_s=0.01, max_delay_s=0.02)
FILES = 60


@pytest.fixture(autouse=True)
def _no_answers_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_ANSWERED", set())


def _sdk_errors() -> dict[str, Any]:
    from azure.core.exceptions import (
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    class _Response:
        def __init__(self, status: int) -> None:
            self.status_code, self.reason, self.headers = status, "x", {}

        def text(self) -> str:
            return ""

    return {"refused": ServiceRequestError("Cannot connect to host 127.0.0.1:1"),
            "lost": ServiceResponseError("Connection reset by peer"),
            "503": HttpResponseError("Service Unavailable", response=_Response(503)),
            "404": ResourceNotFoundError("The specified blob does not exist.", response=_Response(404)),
            "403": HttpResponseError("AuthenticationFailed", response=_Response(403))}


def test_the_sdks_errors_count_as_the_lean_clients_do() -> None:
    errors = _sdk_errors()
    assert sdk_gave_up(errors["refused"]) == sdk_gave_up(errors["lost"]) == "unreachable"
    assert sdk_gave_up(errors["503"]) == "status"
    assert sdk_gave_up(errors["404"]) is None and sdk_gave_up(errors["403"]) is None
    assert sdk_gave_up(ValueError("not the SDK's")) is None


@pytest.mark.parametrize(("kind", "cause"), [("refused", UNREACHABLE), ("lost", UNREACHABLE),
                                             ("503", KEPT_FAILING)])
def test_three_sdk_failures_of_one_kind_stop_the_transfer(kind: str, cause: str) -> None:
    log, error = FailureLog(), _sdk_errors()[kind]
    for n in range(3):
        assert not log.stop.is_set()
        log.record(f"f{n}", error)
    assert log.stop.is_set() and log.cause == cause


def test_answers_that_are_no_outage_do_not_stop_it() -> None:
    log, errors = FailureLog(), _sdk_errors()
    for n in range(5):
        log.record(f"f{n}", errors["404" if n % 2 else "403"])
    assert not log.stop.is_set() and log.cause is None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_store_stops_a_many_file_sdk_download_early(tmp_path: Path) -> None:
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                             f"AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:{_closed_port()}/devstoreaccount1;",
                             skip_instance_cache=True)
    assert configure_sdk_retries(fs, QUICK)
    files = [RemoteFile(rel=f"f{n:02d}.bin", path=f"c/data/f{n:02d}.bin", size=10) for n in range(FILES)]
    with pytest.raises(TransferFailed) as failure:
        download_files(FsspecStore(fs), files, tmp_path / "into", tmp_path / "state", quiet=True)
    text = str(failure.value)
    assert text.startswith(f"{FILES} of {FILES} file(s) could not be downloaded: {UNREACHABLE}"), text
    assert "not attempted" in text, text  # the rest waited for nothing: not every file's retries
