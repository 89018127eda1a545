"""READDIRPLUS for the high-level libfuse3 API: one ``readdir`` answers every ``lstat`` that follows.

mfusepy hands libfuse names only (``st_mode`` at most, flags 0), so after a listing the kernel still
sends one LOOKUP per entry, each answered by a Python callback: walking a mount of 100,000 files and
``lstat``ing each cost 0.2-0.3 ms per file against rclone mount's 0.06 (bench/RESULTS.md, "Scale").

An ``Operations`` object that has ``readdir_plus(path, fh) -> [(name, attrs), ...]`` (every entry with
its full ``getattr`` dict, cheap because the listing is cached) gets, on a READDIRPLUS request, every
entry with its attributes and ``FUSE_FILL_DIR_PLUS``: libfuse makes the node and the kernel caches the
dentry and the attributes for the mount's entry/attr timeouts, so ``lstat`` does not leave the kernel.
Entries go out with offsets (``index + 1``), so each request fills its reply buffer straight from the
listing (libfuse's own offset-0 list would keep a copy of the whole folder per open handle).

``init_with_config`` turns off ``FUSE_CAP_READDIRPLUS_AUTO``: with it, the kernel asks for attributes
only in a listing's first request or after a lookup in the folder, so ``os.walk`` or ``find`` (the
whole listing first, then the ``lstat``s) would get names only after the first ~25 entries.
"""

from __future__ import annotations

import ctypes
from typing import Any

from mounts.fuse.binding import mfusepy

FUSE_READDIR_PLUS = 1 << 0  # enum fuse_readdir_flags: the kernel asked for READDIRPLUS
FUSE_FILL_DIR_PLUS = 1 << 1  # enum fuse_fill_dir_flags: this entry's stat is complete
FUSE_CAP_READDIRPLUS_AUTO = 1 << 14  # fuse_common.h (libfuse 3)
_DOTS = (".", "..")


class PlusFUSE(mfusepy.FUSE):  # type: ignore[misc]
    """``mfusepy.FUSE`` whose libfuse3 ``readdir`` honours READDIRPLUS (see the module docstring)."""

    def readdir_fuse_3(self, path: bytes | None, buf: Any, filler: Any, offset: int, fip: Any,
                       flags: int) -> int:
        listing = getattr(self.operations, "readdir_plus", None)
        if listing is None or path is None:
            return int(super().readdir_fuse_3(path, buf, filler, offset, fip, flags))
        plus = bool(flags & FUSE_READDIR_PLUS)
        entries = listing(path.decode(self.encoding, self.errors), fip.contents.fh)
        st = mfusepy.c_stat()
        size = ctypes.sizeof(st)
        index = offset
        while index < len(_DOTS):  # no stat: libfuse fills what the kernel needs for . and ..
            index += 1
            if filler(buf, _DOTS[index - 1].encode(), None, index, 0):
                return 0
        for position in range(index - len(_DOTS), len(entries)):  # no slice: O(reply), not O(folder)
            name, attrs = entries[position]
            index += 1
            ctypes.memset(ctypes.byref(st), 0, size)
            mfusepy.set_st_attrs(st, attrs, use_ns=self.use_ns)
            if filler(buf, name.encode(self.encoding, self.errors), st, index,
                      FUSE_FILL_DIR_PLUS if plus else 0):
                break  # the reply is full: the kernel asks again from ``index``
        return 0


def always_readdirplus(conn: Any) -> None:
    """For ``Operations.init_with_config``: READDIRPLUS for every listing request, not only the first."""
    if conn is not None:
        conn.want &= ~FUSE_CAP_READDIRPLUS_AUTO
