"""The script azureml-examples' ``cli/jobs/basics/hello-model-as-output.yml`` runs from its ``code: src``.

    python hello-model-as-output.py --input_model ${{inputs.input_model}}
                                    --custom_model_output ${{outputs.output_folder}}

It checks the MLflow model it was given (MLmodel present), copies its files into the custom_model output
and adds ``SHA256SUMS`` and a ``README.txt`` saying where it came from. Standalone (stdlib only), so it can
be dropped into the examples tree unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_model", required=True, type=Path)
    parser.add_argument("--custom_model_output", required=True, type=Path)
    args = parser.parse_args()
    source: Path = args.input_model
    target: Path = args.custom_model_output
    if not (source / "MLmodel").is_file():
        raise SystemExit(f"FAIL: {source} is not an MLflow model: MLmodel is missing")
    target.mkdir(parents=True, exist_ok=True)
    sums = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source).as_posix()
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
        digest = sha256_of(target / rel)
        if digest != sha256_of(path):
            raise SystemExit(f"FAIL: copy of {rel} differs from its source")
        sums.append(f"{digest}  {rel}\n")
        print(f"sha256 {digest} {rel}")
    (target / "SHA256SUMS").write_text("".join(sums))
    (target / "README.txt").write_text(f"Copied from the MLflow model input {source}.\n")
    print(f"OK: wrote {len(sums)} files to {target}")


if __name__ == "__main__":
    main()
