"""The one place that loads the FUSE binding: mfusepy on libfuse3.

libfuse2 (fusepy) caps read requests at 128 KiB; libfuse3 negotiates up to 1 MiB requests once the
mount's ``read_ahead_kb`` is raised (``mounts.fuse.lifecycle``), so far fewer Python callbacks run per
byte (figures: bench/fuse_binding.py). mfusepy looks for libfuse2 first, so libfuse3 is asked for by
name before it is imported. Every module of ``mounts.fuse`` imports ``mfusepy`` from here.
"""

from __future__ import annotations

import ctypes.util
import os

if "FUSE_LIBRARY_PATH" not in os.environ and ctypes.util.find_library("fuse3"):
    os.environ.setdefault("FUSE_LIBRARY_NAME", "fuse3")

import mfusepy  # noqa: E402 - must follow the library choice above

FuseOSError = mfusepy.FuseOSError

__all__ = ["FuseOSError", "mfusepy"]
