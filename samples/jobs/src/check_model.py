"""Verify a model input the job was given: list it, fingerprint it, and check it is what it claims.

    python check_model.py --model ${{inputs.my_model}} --type mlflow_model [--expect-readonly]

Fails (exit 1) when the path is missing or empty, when an mlflow_model has no MLmodel file, when a
SHA256SUMS in the folder does not match, or when ``--expect-readonly`` is given and the job can write.
"""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path

import yaml
from model_files import print_manifest


def check_mlflow(root: Path) -> None:
    mlmodel = root / "MLmodel"
    if not mlmodel.is_file():
        raise SystemExit(f"FAIL: {root} is not an MLflow model: MLmodel is missing")
    with mlmodel.open() as handle:
        spec = yaml.safe_load(handle)
    flavors = sorted(spec.get("flavors", {}))
    print(f"MLmodel flavors: {', '.join(flavors)}")
    if not flavors:
        raise SystemExit("FAIL: MLmodel lists no flavors")


def check_sums(root: Path, manifest: dict[str, str]) -> None:
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        return
    for line in sums.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if manifest.get(name) != digest:
            raise SystemExit(f"FAIL: {name} does not match SHA256SUMS")
    print("SHA256SUMS verified")


def check_readonly(root: Path) -> None:
    probe = root / ".write-probe"
    try:
        probe.write_text("x")
    except OSError as exc:
        print(f"read-only as expected ({errno.errorcode.get(exc.errno or 0, exc.errno)})")
        return
    probe.unlink()
    raise SystemExit(f"FAIL: {root} is writable, expected a read-only input")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--type", default="custom_model",
                        choices=["custom_model", "mlflow_model", "triton_model"])
    parser.add_argument("--expect-readonly", action="store_true")
    args = parser.parse_args()
    root: Path = args.model
    print(f"model input: {root}")
    for key in sorted(k for k in os.environ if k.startswith("AZURE_ML_INPUT_")):
        print(f"{key}={os.environ[key]}")
    if not root.exists():
        raise SystemExit(f"FAIL: {root} does not exist")
    manifest = print_manifest(root)
    if args.type == "mlflow_model":
        check_mlflow(root)
    check_sums(root, manifest)
    if args.expect_readonly:
        check_readonly(root)
    print(f"OK: {len(manifest)} files checked")


if __name__ == "__main__":
    main()
