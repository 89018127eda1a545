"""Train a logistic regression on part of the iris data and save it as an MLflow model.

    python train.py --max_iter 500 --regularization 1.0 --model <output folder>
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import mlflow.sklearn
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_iter", type=int, required=True)
    parser.add_argument("--regularization", type=float, required=True)
    parser.add_argument("--model", type=Path, required=True)
    args = parser.parse_args()
    features, labels = load_iris(return_X_y=True)
    train_x, _, train_y, _ = train_test_split(features, labels, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=args.max_iter, C=args.regularization).fit(train_x, train_y)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    # the output folder exists already (the runner made it): save into a fresh subfolder, then move up
    staging = args.model / "mlflow-model"
    mlflow.sklearn.save_model(model, str(staging), pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
                              serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE)
    for item in staging.iterdir():
        item.rename(args.model / item.name)
    staging.rmdir()
    print(f"trained: max_iter={args.max_iter} C={args.regularization}; model saved to {args.model}")
    print("files:", " ".join(sorted(p.name for p in args.model.iterdir())))


if __name__ == "__main__":
    main()
