"""Helpers of the fault suite: an Azure datastore through the proxy, job records read straight from the
database (a ``runner`` command would recover a job first, which some tests must not let happen), the
job's log, and what "one clear message" means."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs_support import cli, write_job
from private_azurite import ACCOUNT, KEY, PrivateAzurite
from throttle import ThrottledProxy

MiB = 1 << 20
RATE = 24 * MiB  # bytes per second through the proxy: transfers take long enough to be hit mid-way


@dataclass
class Storage:
    """A private Azurite reached through a throttling proxy, and one container on it."""

    azurite: PrivateAzurite
    proxy: ThrottledProxy
    container: str

    @property
    def endpoint(self) -> str:  # what the runner is given: the proxy
        return f"http://127.0.0.1:{self.proxy.port}/{ACCOUNT}"

    def service(self) -> Any:
        """An SDK client straight to Azurite (setting up and checking, not through the proxy)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.azurite.connection_string)

    def put(self, name: str, data: bytes) -> None:
        self.service().get_blob_client(self.container, name).upload_blob(data, overwrite=True)

    def get(self, name: str) -> bytes:
        return bytes(self.service().get_blob_client(self.container, name).download_blob().readall())

    def names(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.service().get_container_client(self.container)
                      .list_blobs(name_starts_with=prefix))

    def stop_when(self, condition: Callable[[], bool], *, outage_s: float | None,
                  timeout: float = 120) -> threading.Thread:
        """Stop Azurite as soon as ``condition()`` holds; start it again after ``outage_s`` (None: the
        test starts it). The thread's ``stopped_at`` is set when it stopped Azurite."""
        def run() -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
            self.azurite.stop()
            thread.stopped_at = time.monotonic()  # type: ignore[attr-defined]
            if outage_s is not None:
                time.sleep(outage_s)
                self.azurite.start()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread



def azure_datastore(ws: Path, folder: Path, storage: Storage, name: str = "az") -> None:
    """``runner datastore create`` of the storage's container, reached through the proxy."""
    spec = write_job(folder, f"""
        name: {name}
        type: azure_blob
        account_name: {ACCOUNT}
        container_name: {storage.container}
        account_url: {storage.endpoint}
        credentials:
          account_key: {KEY}
        """, name=f"datastore-{name}.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)


def db_record(ws: Path, name: str) -> dict[str, Any] | None:
    """The job's record read from the database directly: no ``runner`` command, so no recovery."""
    if not (ws / "runner.db").exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{ws / 'runner.db'}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT record FROM jobs WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:  # being created by the first command
        return None
    return json.loads(row[0]) if row else None


def wait_db(ws: Path, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 120,
            what: str = "the job's record") -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        record = db_record(ws, name)
        if record is not None and predicate(record):
            return record
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {record}"
        time.sleep(0.2)


def std_log(ws: Path, name: str) -> str:
    path = ws / "jobs" / name / "user_logs" / "std_log.txt"
    return path.read_text(errors="replace") if path.exists() else ""


def one_clear_message(text: str) -> None:
    """What a user reads: no traceback, no internal error."""
    assert "Traceback" not in text and "internal error" not in text, text
