"""An Azurite Blob service of one test alone (its own port and data folder), which the test may stop
and restart to simulate storage going away. The shared Azurite that provisioning starts is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ACCOUNT = "devstoreaccount1"
# Azurite's published development account key (not a secret)
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_BIN = (Path(os.environ.get("RUNNER_CACHE_DIR", Path.home() / ".cache" / "runner"))
               / "azurite" / "node_modules" / ".bin" / "azurite-blob")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateAzurite:
    """An Azurite process of this test alone, on its own port and data folder."""

    def __init__(self, location: Path) -> None:
        self.location, self.port = location, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};")

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location",
             str(self.location), "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.1)
        raise RuntimeError("private Azurite did not start")

    def stop(self) -> None:
        """SIGTERM (Azurite saves its metadata), SIGKILL when it lingers on open connections."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: only this Azurite
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None
