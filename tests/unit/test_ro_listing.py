"""ro_mount pieces that need no FUSE mount: the lean folder listing and the zero-copy read buffer."""

from __future__ import annotations

import ctypes
from datetime import UTC, datetime

from mounts.azure_listing import parse_list_folder
from mounts.fuse_ro import _fuse_buffer, attrs_of


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
