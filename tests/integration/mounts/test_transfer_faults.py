"""Storage stopped mid-transfer: a PRIVATE Azurite (never the shared one) is killed during an upload and
during a download, for longer than the retries last (shortened here through RUNNER_RETRY_TOTAL_S; the
fault suite, tests/faults/, rides out short outages with the default). Uploads fail naming the files and
keep every staged byte; downloads fail clearly, leave no partial data in the job folder, and a rerun
after the storage is back completes the content, byte-identical."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from private_azurite import PrivateAzurite

from mounts.base import Source, Target
from mounts.download import DownloadStrategy
from mounts.errors import TransferFailed
from mounts.transfer.downloader import TransferOptions
from mounts.upload import UploadStrategy

pytestmark = pytest.mark.azure


@pytest.fixture(autouse=True)
def short_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")  # an outage outlasts the retries in seconds

MiB = 1 << 20
SLOW = TransferOptions(workers=2, part_size=1 * MiB, first_part=256 * 1024, multipart_threshold=2 * MiB,
                       block_size=1 * MiB, single_put_max=256 * 1024, stream_put_max=4 * MiB,
                       max_blocks_in_flight=2)


def filesystem(server: PrivateAzurite):  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    return AzureBlobFileSystem(connection_string=server.connection_string, skip_instance_cache=True)


def stop_when(server: PrivateAzurite, condition, timeout: float = 60) -> threading.Thread:  # type: ignore[no-untyped-def]
    """Stop ``server`` from a thread as soon as ``condition()`` holds (the transfer is under way)."""
    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not condition():
            time.sleep(0.02)
        server.stop()
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def make_files(root: Path) -> dict[str, str]:
    files = {f"small/{i:03d}.bin": os.urandom(64 * 1024) for i in range(150)}
    files["large/model.bin"] = os.urandom(12 * MiB + 5)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def test_storage_stopped_mid_upload_keeps_staged_data(private_azurite: PrivateAzurite,
                                                      tmp_path: Path) -> None:
    fs = filesystem(private_azurite)
    fs.mkdir("outputs")
    staged = tmp_path / "job" / "outputs" / "model"
    target = Target(fs=fs, path="outputs/run1", url="abfs://outputs/run1")
    strategy = UploadStrategy(quiet=True, options=SLOW)
    with pytest.raises(TransferFailed) as info, strategy.materialize(target, staged) as mat:
        expected = make_files(Path(mat.host_path or ""))
        stop_when(private_azurite, lambda: len(fs.find("outputs/run1", refresh=True)) >= 5)
    error = info.value
    assert error.staged == staged
    assert error.failed and set(error.failed) <= set(expected)
    assert str(staged) in str(error)
    assert digests(staged) == expected  # every staged byte is still there, nothing lost


def test_storage_stopped_mid_download_then_rerun_completes(private_azurite: PrivateAzurite,
                                                           tmp_path: Path) -> None:
    fs = filesystem(private_azurite)
    fs.mkdir("models")
    expected = make_files(tmp_path / "src")
    fs.put(str(tmp_path / "src") + "/", "models/m1/", recursive=True)
    source = Source(fs=fs, path="models/m1", url="abfs://models/m1", is_dir=True)
    workdir = tmp_path / "job" / "inputs" / "model"
    strategy = DownloadStrategy(quiet=True, options=SLOW)
    stop_when(private_azurite, lambda: len(list((workdir / "data").rglob("*.bin"))) >= 5)
    with pytest.raises(TransferFailed) as info, strategy.materialize(source, workdir):
        pass
    assert info.value.failed and "the storage stayed unreachable" in str(info.value)
    assert "the partial download was removed from the job folder" in str(info.value)
    assert info.value.hint and "run the job again" in info.value.hint
    assert not (workdir / "data").exists() and not (workdir / "state").exists()  # nothing half-made kept

    private_azurite.start()  # same port, same data folder
    with strategy.materialize(Source(fs=filesystem(private_azurite), path="models/m1",
                                     url="abfs://models/m1", is_dir=True), workdir) as mat:
        assert digests(Path(mat.host_path or "")) == expected
