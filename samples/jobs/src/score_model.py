"""Load a model produced by an earlier job and score it: the second link of a chain.

    python score_model.py --model ${{inputs.trained_model}} [--min-accuracy 0.9]

Accepts an MLflow model folder (MLmodel + model.pkl) or a custom folder (model.pkl + metadata.json).
Verifies SHA256SUMS when the producing job wrote one, then predicts on the iris data and fails when the
accuracy is below ``--min-accuracy``.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

from model_files import print_manifest
from sklearn.datasets import load_iris


def verify_sums(root: Path, manifest: dict[str, str]) -> None:
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        print("no SHA256SUMS; skipping content check")
        return
    for line in sums.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if manifest.get(name) != digest:
            raise SystemExit(f"FAIL: {name} does not match SHA256SUMS")
    print("SHA256SUMS verified")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.9)
    args = parser.parse_args()
    root: Path = args.model
    manifest = print_manifest(root)
    verify_sums(root, manifest)
    kind = "mlflow" if (root / "MLmodel").is_file() else "custom"
    with (root / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - a model this workspace's own job wrote
    features, labels = load_iris(return_X_y=True)
    accuracy = float(model.score(features, labels))
    print(f"loaded a {kind} model ({type(model).__name__}); accuracy {accuracy:.3f}")
    if accuracy < args.min_accuracy:
        raise SystemExit(f"FAIL: accuracy {accuracy:.3f} < {args.min_accuracy}")
    print("OK")


if __name__ == "__main__":
    main()
