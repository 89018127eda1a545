"""A libfuse that cannot be loaded is a failed mount that says what to install, not a bare OSError
(which the job's error boundary would report as a storage problem)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_a_missing_fuse_library_is_a_mount_failure_with_the_install_hint(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        from pathlib import Path
        from mounts.errors import MountFailed
        from mounts.fuse.lifecycle import fuse_mount
        try:
            with fuse_mount(object(), Path({str(tmp_path / "mnt")!r})):
                raise SystemExit("mounted without a FUSE library")
        except MountFailed as exc:
            print(exc)
    """)
    env = {**os.environ, "FUSE_LIBRARY_PATH": str(tmp_path / "no-such-libfuse3.so"),
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the FUSE library could not be loaded" in done.stdout
    assert "no-such-libfuse3.so" in done.stdout
    assert "apt-get install fuse3" in done.stdout
    assert not (tmp_path / "mnt").exists() or not os.listdir(tmp_path / "mnt")
