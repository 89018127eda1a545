"""The one place that loads the FUSE binding: mfusepy on libfuse3.

libfuse2 (fusepy) caps read requests at 128 KiB; libfuse3 negotiates up to 1 MiB requests once the
mount's ``read_ahead_kb`` is raised (``mounts.fuse.lifecycle``), so far fewer Python callbacks run per
byte (figures: bench/fuse_binding.py). mfusepy looks for libfuse2 first, so libfuse3 is asked for by
name before it is imported. Every module of ``mounts.fuse`` imports ``mfusepy`` from here, so a library
that cannot be loaded is one ``MountFailed`` (what to install) wherever a mount is first asked for.
"""

from __future__ import annotations

import ctypes.util
import os

if "FUSE_LIBRARY_PATH" not in os.environ and ctypes.util.find_library("fuse3"):
    os.environ.setdefault("FUSE_LIBRARY_NAME", "fuse3")

from mounts.errors import MountFailed  # noqa: E402

try:
    import mfusepy  # must follow the library choice above
except (OSError, ImportError) as exc:  # no libfuse, or FUSE_LIBRARY_PATH/NAME naming a wrong one
    raise MountFailed(f"the FUSE library could not be loaded ({exc}); install libfuse3 (apt-get install "
                      "fuse3), or unset FUSE_LIBRARY_PATH / FUSE_LIBRARY_NAME if they name a wrong "
                      "file") from exc

FuseOSError = mfusepy.FuseOSError

__all__ = ["FuseOSError", "mfusepy"]
