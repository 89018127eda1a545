"""``BlobStore`` over any fsspec filesystem (ranged ``cat_file``, streamed ``open('wb')``)."""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from mounts.stores.base import CHUNK, RemoteFile, Sink


def md5_from_info(info: dict[str, Any]) -> bytes | None:
    """The Content-MD5 an fsspec ``info`` dict carries (adlfs: ``content_settings.content_md5``)."""
    settings = info.get("content_settings")
    value = None
    if isinstance(settings, dict):
        value = settings.get("content_md5")
    elif settings is not None:
        value = getattr(settings, "content_md5", None)
    if value is None:
        value = info.get("content_md5") or info.get("ContentMD5")
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return bytes(value)
    if isinstance(value, str) and value:
        try:
            raw = base64.b64decode(value)
        except ValueError:
            return None
        return raw if len(raw) == 16 else None
    return None


def _etag_from_info(info: dict[str, Any]) -> str | None:
    etag = info.get("etag") or info.get("ETag")
    if etag:
        return str(etag).strip('"')
    mtime = info.get("mtime") or info.get("last_modified") or info.get("created")
    return f"{info.get('size')}-{mtime}" if mtime is not None else None


class FsspecStore:
    """``BlobStore`` over any fsspec filesystem (ranged ``cat_file``, streamed ``open('wb')``)."""

    supports_blocks = False
    verifies_writes = False
    streams_puts = False

    def __init__(self, fs: AbstractFileSystem) -> None:
        self.fs = fs
        self.name = f"fsspec:{type(fs).__name__}"

    def _remote(self, rel: str, info: dict[str, Any]) -> RemoteFile:
        return RemoteFile(rel=rel, path=str(info["name"]), size=int(info.get("size") or 0),
                          etag=_etag_from_info(info), md5=md5_from_info(info))

    def list_files(self, root: str) -> list[RemoteFile]:
        info = self.fs.info(root)
        if info["type"] != "directory":
            return [self._remote(PurePosixPath(root).name, info)]
        prefix = root.rstrip("/") + "/"
        found = self.fs.find(root, detail=True, withdirs=False)
        files = []
        for path, meta in sorted(found.items()):
            if meta.get("type") == "directory":
                continue
            rel = path[len(prefix):] if path.startswith(prefix) else path.lstrip("/")
            files.append(self._remote(rel, meta))
        return files

    def stat(self, path: str) -> RemoteFile:
        self.fs.invalidate_cache(path)
        info = self.fs.info(path)
        if info["type"] == "directory":
            raise IsADirectoryError(path)
        return self._remote(PurePosixPath(path).name, info)

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        end = item.size if length is None else start + length
        position = start
        while position < end:  # ranged reads of at most CHUNK*8: memory stays bounded per worker
            step = min(end - position, CHUNK * 8)
            data = self.fs.cat_file(item.path, start=position, end=position + step)
            if not data:
                raise OSError(f"{item.path}: store returned no data at offset {position} of {item.size}")
            sink(memoryview(data))
            position += len(data)

    def _ensure_parent(self, path: str) -> None:
        if isinstance(self.fs, LocalFileSystem):  # object stores have no directories to make
            self.fs.makedirs(str(PurePosixPath(path).parent), exist_ok=True)

    def write_small(self, path: str, data: bytes, md5: bytes | None) -> None:
        self._ensure_parent(path)
        self.fs.pipe_file(path, data)

    def write_stream(self, path: str, stream: BinaryIO, size: int) -> None:
        self._ensure_parent(path)
        with self.fs.open(path, "wb") as out:
            remaining = size
            while remaining > 0:
                data = stream.read(min(CHUNK * 4, remaining))
                if not data:
                    raise OSError(f"{path}: local file shrank while uploading")
                out.write(data)
                remaining -= len(data)

    def put_file(self, path: str, local: Path, size: int) -> None:
        raise NotImplementedError("FsspecStore uploads files with write_stream")

    def put_block(self, path: str, index: int, data: bytes | memoryview, md5: bytes) -> str:
        raise NotImplementedError("FsspecStore uploads large files with write_stream")

    def commit_blocks(self, path: str, block_ids: list[str], md5: bytes | None) -> None:
        raise NotImplementedError("FsspecStore uploads large files with write_stream")
