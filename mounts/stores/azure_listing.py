"""Parsing helpers of the lean Azure Blob client: connection strings and List Blobs responses."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from typing import Any

from mounts.stores.base import RemoteFile

# Azurite's published development account (UseDevelopmentStorage=true)
DEVSTORE_ACCOUNT = "devstoreaccount1"
DEVSTORE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def parse_connection_string(text: str) -> dict[str, str]:
    """``Key=Value;...`` with keys lower-cased (values may contain ``=``, as keys and SAS do)."""
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            parts[key.strip().lower()] = value.strip()
    return parts


def parse_list_blobs(payload: bytes, container: str, prefix: str) -> tuple[list[RemoteFile], str]:
    """The files of one List Blobs page (folder-marker blobs left out) and the next marker ("" at end)."""
    root = ET.fromstring(payload)
    files = []
    for blob in root.iter("Blob"):
        name = blob.findtext("Name") or ""
        if not name or name.endswith("/"):
            continue
        metadata = {child.tag.lower(): (child.text or "") for child in blob.find("Metadata") or []}
        if metadata.get("hdi_isfolder", "").lower() == "true":
            continue  # a directory marker (ADLS-style), not a file
        props = blob.find("Properties")
        md5 = props.findtext("Content-MD5") if props is not None else None
        size = props.findtext("Content-Length") if props is not None else None
        etag = props.findtext("Etag") if props is not None else None
        files.append(RemoteFile(rel=name[len(prefix):], path=f"{container}/{name}", size=int(size or 0),
                                etag=etag.strip('"') if etag else None,
                                md5=base64.b64decode(md5) if md5 else None))
    return files, root.findtext("NextMarker") or ""


def parse_list_folder(payload: bytes, container: str, prefix: str) -> tuple[dict[str, dict[str, Any]], str]:
    """One page of List Blobs with ``delimiter=/``: the direct children of ``prefix`` as fsspec-style
    ``info`` dicts keyed by name (sub-folders from ``BlobPrefix`` and ADLS-style folder-marker blobs),
    and the next marker ("" at the end). A sub-folder of names with an empty segment (``p//x``) is listed
    as ``""``, as one of ``p/../x`` is as ``..``: the caller decides (``mounts.fuse.ro.NOT_NAMES``)."""
    root = ET.fromstring(payload)
    entries: dict[str, dict[str, Any]] = {}
    for folder in root.iter("BlobPrefix"):  # <prefix><segment>/: the segment, '' when it is empty
        name = (folder.findtext("Name") or "")[len(prefix):].rstrip("/")
        entries[name] = {"name": f"{container}/{prefix}{name}", "type": "directory", "size": 0}
    for blob in root.iter("Blob"):
        name = (blob.findtext("Name") or "")[len(prefix):]
        if not name or name.endswith("/") or name in entries:
            continue  # the folder's own marker, or a marker of a sub-folder listed as a prefix already
        metadata = {child.tag.lower(): (child.text or "") for child in blob.find("Metadata") or []}
        path = f"{container}/{prefix}{name}"
        if metadata.get("hdi_isfolder", "").lower() == "true":
            entries[name] = {"name": path, "type": "directory", "size": 0}
            continue
        props = blob.find("Properties")
        size = props.findtext("Content-Length") if props is not None else None
        modified = props.findtext("Last-Modified") if props is not None else None
        info: dict[str, Any] = {"name": path, "type": "file", "size": int(size or 0)}
        if modified:
            info["last_modified"] = parsedate_to_datetime(modified)
        entries[name] = info
    return entries, root.findtext("NextMarker") or ""


def page_has_entries(payload: bytes) -> tuple[bool, str]:
    """Whether one List Blobs page names anything (a blob, a folder's own marker blob included, or a
    sub-folder), and the next marker ("" at the end)."""
    root = ET.fromstring(payload)
    found = root.find(".//Blob") is not None or root.find(".//BlobPrefix") is not None
    return found, root.findtext("NextMarker") or ""
