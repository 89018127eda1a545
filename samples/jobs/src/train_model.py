"""Train a small scikit-learn classifier and write it as a model output.

    python train_model.py [--input_model ${{inputs.input_model}}] --output ${{outputs.model_output}}
                          --format mlflow|custom

With ``--input_model`` (an MLflow model folder) the job first verifies what it reads (MLmodel present,
every file fingerprinted) and reuses the input's feature names from its ``input_example.json``.
``--format mlflow`` writes an MLflow model (MLmodel, model.pkl, conda.yaml ...) with ``mlflow.sklearn``;
``--format custom`` writes ``model.pkl`` and ``metadata.json``. Both add ``SHA256SUMS``.
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
from pathlib import Path

import sklearn
from model_files import print_manifest, write_manifest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

DEFAULT_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def read_input_model(root: Path) -> list[str]:
    """Verify the input MLflow model and return the feature names its input example uses."""
    print(f"reading input model from {root}")
    print_manifest(root)
    if not (root / "MLmodel").is_file():
        raise SystemExit(f"FAIL: {root} is not an MLflow model: MLmodel is missing")
    example = root / "input_example.json"
    if example.is_file():
        columns = json.loads(example.read_text()).get("columns")
        if columns:
            return list(columns)
    return DEFAULT_FEATURES


def train() -> tuple[LogisticRegression, float]:
    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    return model, float(model.score(features, labels))


def save_mlflow(model: LogisticRegression, out: Path) -> None:
    import mlflow.sklearn

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # no pip-version / signature warnings in the log
    # Explicit requirements: mlflow otherwise infers them by loading the model in a subprocess.
    mlflow.sklearn.save_model(
        model, str(out),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
    )


def save_custom(model: LogisticRegression, out: Path, features: list[str], accuracy: float) -> None:
    with (out / "model.pkl").open("wb") as handle:
        pickle.dump(model, handle)
    meta = {"features": features, "accuracy": accuracy, "sklearn_version": sklearn.__version__}
    (out / "metadata.json").write_text(json.dumps(meta, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input_model", type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--format", choices=["mlflow", "custom"], default="mlflow")
    args = parser.parse_args()
    features = read_input_model(args.input_model) if args.input_model else DEFAULT_FEATURES
    model, accuracy = train()
    print(f"trained LogisticRegression on iris, training accuracy {accuracy:.3f}")
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    if args.format == "mlflow":
        save_mlflow(model, out)
    else:
        save_custom(model, out, features, accuracy)
    write_manifest(out)
    print(f"wrote a {args.format} model to {out}:")
    print_manifest(out)


if __name__ == "__main__":
    main()
