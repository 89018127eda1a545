"""Read a model input given in ``direct`` mode: the job receives a URI and opens it itself.

    python read_model_direct.py --model_uri ${{inputs.my_model}}

The URI is whatever the datastore speaks (a local path, ``file://``, ``abfs://`` ...); fsspec opens it.
For Azure Blob datastores the credentials arrive as environment variables, which adlfs reads itself
(see docs/guides/modes.md, "direct and credentials"). Every file is streamed through SHA-256; nothing is copied to disk.
"""

from __future__ import annotations

import argparse
import hashlib

import fsspec

CHUNK = 1024 * 1024


def sha256_remote(fs: fsspec.AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sums(fs: fsspec.AbstractFileSystem, sums_path: str, manifest: dict[str, str]) -> None:
    """Compare the files read with the folder's SHA256SUMS (sha256sum's format), when it has one."""
    if not fs.exists(sums_path):
        return
    with fs.open(sums_path, "rt") as handle:
        for line in handle:
            digest, name = line.split(maxsplit=1)
            if manifest.get(name.strip()) != digest:
                raise SystemExit(f"FAIL: {name.strip()} does not match SHA256SUMS")
    print("SHA256SUMS verified")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model_uri", required=True)
    args = parser.parse_args()
    uri: str = args.model_uri
    print(f"model URI: {uri}")
    fs, root = fsspec.core.url_to_fs(uri)
    print(f"filesystem: {type(fs).__name__}")
    if not fs.exists(root):
        raise SystemExit(f"FAIL: {uri} does not exist")
    files = sorted(fs.find(root)) if fs.isdir(root) else [root]
    if not files:
        raise SystemExit(f"FAIL: no files under {uri}")
    prefix = root.rstrip("/") + "/"
    manifest: dict[str, str] = {}
    for path in files:
        rel = path[len(prefix):] if path.startswith(prefix) else path.rsplit("/", 1)[-1]
        manifest[rel] = sha256_remote(fs, path)
        print(f"sha256 {manifest[rel]} {rel}", flush=True)
    verify_sums(fs, prefix + "SHA256SUMS", manifest)
    print(f"OK: {len(files)} files read directly")


if __name__ == "__main__":
    main()
