"""ro_mount pieces that need no FUSE mount: the lean folder listing, the zero-copy read buffer, and
the small files fetched ahead of a reader going through a folder (the adapter called directly)."""

from __future__ import annotations

import ctypes
import os
import threading
import uuid
from datetime import UTC, datetime

from fsspec.implementations.memory import MemoryFileSystem

from mounts.fuse.readahead import Prefetcher, ReadaheadConfig
from mounts.fuse.ro import NEXT_FILES, FsspecReadOnly, _fuse_buffer, attrs_of
from mounts.stores.azure import AzureBlobStore
from mounts.stores.azure_account import account_from_options
from mounts.stores.azure_listing import parse_list_folder


def test_folder_listing_page_has_files_and_subfolders() -> None:
    payload = b"""<?xml version="1.0"?><EnumerationResults><Blobs>
      <Blob><Name>p/</Name><Properties><Content-Length>0</Content-Length></Properties></Blob>
      <Blob><Name>p/a.txt</Name><Properties><Content-Length>3</Content-Length>
        <Last-Modified>Thu, 26 Nov 2026 12:00:00 GMT</Last-Modified></Properties><Metadata/></Blob>
      <Blob><Name>p/marker</Name><Properties><Content-Length>0</Content-Length></Properties>
        <Metadata><hdi_isfolder>true</hdi_isfolder></Metadata></Blob>
      <Blob><Name>p/sub</Name><Properties><Content-Length>0</Content-Length></Properties>
        <Metadata><hdi_isfolder>true</hdi_isfolder></Metadata></Blob>
      <BlobPrefix><Name>p/sub/</Name></BlobPrefix>
    </Blobs><NextMarker>next</NextMarker></EnumerationResults>"""
    entries, marker = parse_list_folder(payload, "c", "p/")
    assert marker == "next"
    assert sorted(entries) == ["a.txt", "marker", "sub"]  # the folder's own marker is not a child
    assert entries["a.txt"]["name"] == "c/p/a.txt" and entries["a.txt"]["size"] == 3
    assert entries["a.txt"]["last_modified"] == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert {entries[n]["type"] for n in ("marker", "sub")} == {"directory"}
    assert attrs_of(entries["a.txt"])["st_mtime"] == int(entries["a.txt"]["last_modified"].timestamp() * 1e9)


def test_folder_listing_of_the_container_root() -> None:
    payload = b"""<?xml version="1.0"?><EnumerationResults><Blobs>
      <Blob><Name>top.bin</Name><Properties><Content-Length>7</Content-Length></Properties></Blob>
      <BlobPrefix><Name>large/</Name></BlobPrefix></Blobs><NextMarker/></EnumerationResults>"""
    entries, marker = parse_list_folder(payload, "c", "")
    assert marker == ""
    assert entries == {"top.bin": {"name": "c/top.bin", "type": "file", "size": 7},
                       "large": {"name": "c/large", "type": "directory", "size": 0}}



def test_a_folder_exists_past_a_page_with_only_a_continuation() -> None:
    """Azure may answer a List Blobs page with no entries and a NextMarker: ``folder_exists`` reads on."""
    account = account_from_options({"connection_string": "UseDevelopmentStorage=true"})
    assert account is not None
    store = AzureBlobStore(account)
    pages = [b"<EnumerationResults><Blobs/><NextMarker>m1</NextMarker></EnumerationResults>",
             b"<EnumerationResults><Blobs><Blob><Name>p/a</Name></Blob></Blobs><NextMarker/></EnumerationResults>"]
    asked: list[dict[str, str]] = []

    def answer(method: str, path: str, query: dict[str, str], what: str) -> tuple[int, dict[str, str], bytes]:
        asked.append(query)
        return 200, {}, pages[len(asked) - 1]

    store._call = answer  # type: ignore[method-assign,assignment]
    assert store.folder_exists("c/p")
    assert [(q["prefix"], q["maxresults"], q.get("marker")) for q in asked] == [
        ("p/", "1", None), ("p/", "1", "m1")]
    asked.clear()
    pages[0] = b"<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>"
    assert not store.folder_exists("c/p") and len(asked) == 1

def test_fuse_buffer_shares_writable_memory_and_copies_the_rest() -> None:
    segment = bytearray(b"0123456789")
    shared = _fuse_buffer(memoryview(segment)[2:6])
    target = ctypes.create_string_buffer(4)
    ctypes.memmove(target, shared, len(shared))  # what mfusepy does with a read's result
    assert target.raw == b"2345"
    assert ctypes.addressof(shared) == ctypes.addressof(ctypes.c_char.from_buffer(segment, 2))
    assert _fuse_buffer(b"abc") == b"abc"
    assert _fuse_buffer(memoryview(b"abc")[1:]) == b"bc"  # read-only: a copy
    assert _fuse_buffer(memoryview(segment)[3:3]) == b""


def _folder_of_small_files(count: int, size: int) -> tuple[FsspecReadOnly, list[tuple[str, int, int]]]:
    """An adapter over ``memory://`` (no mount) whose fetches are recorded."""
    fs = MemoryFileSystem()
    root = f"/ro-listing-{uuid.uuid4().hex}"
    for index in range(count):
        fs.pipe_file(f"{root}/d/f{index:03d}.bin", bytes([index]) * size)
    requests: list[tuple[str, int, int]] = []

    def fetch(path: str, start: int, end: int) -> bytes:
        requests.append((path.rsplit("/", 1)[-1], start, end))
        return bytes(fs.cat_file(path, start=start, end=end))

    prefetcher = Prefetcher(fetch, ReadaheadConfig(small_file=1024, cache_size=64 * 1024))
    return FsspecReadOnly(fs, root, prefetcher), requests


def _read_whole(adapter: FsspecReadOnly, path: str) -> bytes:
    handle = adapter.open(path, os.O_RDONLY)
    data = adapter.read(path, 4096, 0, handle)
    adapter.release(path, handle)
    return bytes(data)


def test_files_opened_in_listing_order_are_fetched_ahead_once_each() -> None:
    adapter, requests = _folder_of_small_files(20, 100)
    adapter.readdir("/d", 0)
    for index in range(2):
        assert _read_whole(adapter, f"/d/f{index:03d}.bin") == bytes([index]) * 100
    ahead = {f"f{index:03d}.bin" for index in range(2, 2 + NEXT_FILES)}  # after two in a row
    for _ in range(200):
        if ahead <= {name for name, _, _ in requests}:
            break
        threading.Event().wait(0.05)
    assert ahead <= {name for name, _, _ in requests}
    for index in range(2, 20):
        assert _read_whole(adapter, f"/d/f{index:03d}.bin") == bytes([index]) * 100
    names = sorted(name for name, _, _ in requests)
    assert names == [f"f{index:03d}.bin" for index in range(20)]  # each file fetched once
    adapter.prefetcher.close()


def test_files_opened_out_of_order_prefetch_nothing() -> None:
    adapter, requests = _folder_of_small_files(20, 100)
    adapter.readdir("/d", 0)
    order = [7, 2, 15, 0, 11]
    for index in order:
        assert _read_whole(adapter, f"/d/f{index:03d}.bin") == bytes([index]) * 100
    assert [name for name, _, _ in requests] == [f"f{index:03d}.bin" for index in order]
    adapter.prefetcher.close()
