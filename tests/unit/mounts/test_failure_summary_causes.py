"""A failed transfer's summary says the causes its files failed with: "the storage stayed unreachable" only
for the files that could not reach it (a connection never made, no answer), never as the headline of files
refused (403), missing (404) or whose content did not match (MD5), and not for a storage that kept
answering with an error status (a 503 the retries outlasted). With 1-2 failed files each file's error is
listed; with 3 or more the wording follows the causes the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from mounts.errors import TransferFailed
from mounts.stores.azure import AzureHTTPError
from mounts.stores.base import RemoteFile, Sink
from mounts.stores.fsspec_store import FsspecStore
from mounts.transfer.downloader import TransferOptions, download_files
from mounts.transfer.state import FailureLog

UNREACHABLE = "the storage stayed unreachable"
ONE_AT_A_TIME = TransferOptions(workers=1)  # files are tried in listing order: which fails how is fixed


def _forbidden(path: str) -> OSError:
    return AzureHTTPError(403, "AuthorizationFailure", f"read {path}")


def _missing(path: str) -> OSError:
    return AzureHTTPError(404, "BlobNotFound", f"read {path}")


def _refused(path: str) -> OSError:
    return ConnectionError(f"read {path} at offset 0: connection refused (tried 3 times)")


def _busy(path: str) -> OSError:  # the lean client's read of a transient status the retries outlasted
    return ConnectionError(f"read {path} at offset 0: read {path}: HTTP 503 ServerBusy "
                           "(still failing after 9 retries over 120 s; RUNNER_RETRY_TOTAL_S=120)")


def _summary(failures: dict[str, OSError], total: int | None = None) -> str:
    log = FailureLog()
    for rel, exc in failures.items():
        log.record(rel, exc)
    with pytest.raises(TransferFailed) as info:
        log.raise_if_any("downloaded", total or len(failures))
    return str(info.value)


@pytest.mark.parametrize("cause", [_forbidden, _missing])
def test_three_refused_files_and_three_unreachable_ones_say_both_causes(
        cause: Callable[[str], OSError]) -> None:
    text = _summary({**{name: cause(f"c/{name}") for name in ("a", "b", "c")},
                     **{name: _refused(f"c/{name}") for name in ("x", "y", "z")}})
    assert not text.startswith(f"6 of 6 file(s) could not be downloaded: {UNREACHABLE} ("), text
    assert f"{UNREACHABLE} for 3 (x: ConnectionError" in text, text
    assert "3 failed otherwise (a: AzureHTTPError: read c/a: HTTP 40" in text, text


def test_checksum_mismatches_beside_an_outage_are_named_as_such() -> None:
    mismatch = "MD5 mismatch: the downloaded content differs from the store's"
    text = _summary({**{name: OSError(mismatch) for name in ("a", "b", "c", "d")},
                     **{name: TimeoutError(f"no data from 127.0.0.1:1 within 5 s ({name})") for name in
                        ("w", "x", "y")}}, total=10)
    said = f"7 of 10 file(s) could not be downloaded: {UNREACHABLE} for 3 (w: TimeoutError"
    assert text.startswith(said), text
    assert f"4 failed otherwise (a: OSError: {mismatch}; b: OSError: {mismatch}; c: OSError: {mismatch} " \
           "and 1 more)" in text, text


def test_a_storage_that_kept_answering_503_is_not_called_unreachable() -> None:
    text = _summary({name: _busy(f"c/{name}") for name in ("a", "b", "c", "d")})
    assert UNREACHABLE not in text, text
    assert text.startswith("4 of 4 file(s) could not be downloaded: the storage kept answering with an error "
                           "(a: ConnectionError: read c/a at offset 0: read c/a: HTTP 503 ServerBusy"), text


def test_an_outage_alone_keeps_its_wording() -> None:
    text = _summary({name: _refused(f"c/{name}") for name in ("a", "b", "c")}, total=5)
    assert text.startswith(f"3 of 5 file(s) could not be downloaded: {UNREACHABLE} (a: ConnectionError"), text
    assert "for 3" not in text and "otherwise" not in text, text


@pytest.mark.parametrize("cause", [_forbidden, _missing])
def test_files_refused_alone_list_their_errors_whatever_their_number(cause: Callable[[str], OSError]) -> None:
    for count in (1, 2, 5):
        names = "abcde"[:count]
        text = _summary({name: cause(f"c/{name}") for name in names})
        said = f"{count} of {count} file(s) could not be downloaded (a: AzureHTTPError: "
        assert text.startswith(said), text
        assert "unreachable" not in text and "kept answering" not in text, text


class _Failing(FsspecStore):
    """An in-memory store whose reads of some files fail as ``fail`` says (by name)."""

    def __init__(self, fail: dict[str, Callable[[str], OSError]]) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.fail = fail

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        if item.rel in self.fail:
            raise self.fail[item.rel](item.path)
        sink(memoryview(b"x" * item.size))


def test_a_download_stopped_by_an_outage_after_refusals_says_both(tmp_path: Path) -> None:
    """Two files refused, then the storage went away: three files could not reach it, so the rest were not
    attempted; the summary names the refusals as refusals and the outage for the files it stopped."""
    names = ["a", "b", "c", "d", "e", "f", "g"]
    store = _Failing({"a": _forbidden, "b": _forbidden, "c": _refused, "d": _refused, "e": _refused})
    files = [RemoteFile(rel=name, path=f"c/{name}", size=3) for name in names]
    with pytest.raises(TransferFailed) as info:
        download_files(store, files, tmp_path / "out", tmp_path / "state", options=ONE_AT_A_TIME, quiet=True)
    text = str(info.value)
    said = f"7 of 7 file(s) could not be downloaded: {UNREACHABLE} for 3 (c: ConnectionError"
    assert text.startswith(said), text
    assert "2 failed otherwise (a: AzureHTTPError: read c/a: HTTP 403 AuthorizationFailure; b: " in text, text
    assert text.endswith("; 2 not attempted"), text
    assert info.value.failed == names
