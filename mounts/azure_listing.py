"""Parsing helpers of the lean Azure Blob client: connection strings and List Blobs responses."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

from mounts.store import RemoteFile

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
