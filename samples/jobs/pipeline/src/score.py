"""Score an MLflow model on the held-out part of the iris data; write metrics.json.

    python score.py --model <model folder> --metrics <output folder>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    args = parser.parse_args()
    features, labels = load_iris(return_X_y=True)
    _, test_x, _, test_y = train_test_split(features, labels, test_size=0.3, random_state=0)
    model = mlflow.sklearn.load_model(str(args.model))
    accuracy = float(model.score(test_x, test_y))
    args.metrics.mkdir(parents=True, exist_ok=True)
    (args.metrics / "metrics.json").write_text(json.dumps({"accuracy": accuracy, "samples": len(test_y)}))
    print(f"accuracy on {len(test_y)} held-out samples: {accuracy:.3f}")


if __name__ == "__main__":
    main()
