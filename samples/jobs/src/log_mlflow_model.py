"""Train a classifier and log it with MLflow as the run's ``model``, the way an Azure ML job does.

    python log_mlflow_model.py

Afterwards the model is registered from the run, as in the seed document:
``runner model create --name run-model-example --path runs:/<job-name>/model/ --type mlflow_model``.

The MLflow run is the one the runner prepared for the job (``MLFLOW_TRACKING_URI`` / ``MLFLOW_RUN_ID``),
so ``mlflow.start_run()`` resumes it and what is logged lands in the job's default artifact location.
"""

from __future__ import annotations

import logging
import os

import mlflow
import mlflow.sklearn
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def main() -> None:
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # no pip-version / signature warnings in the log
    for key in sorted(k for k in os.environ if k.startswith("MLFLOW_")):
        print(f"{key}={os.environ[key]}")
    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    accuracy = float(model.score(features, labels))
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 500)
        mlflow.log_metric("training_accuracy", accuracy)
        # Explicit requirements: otherwise mlflow infers them by loading the model in a subprocess.
        mlflow.sklearn.log_model(
            model, "model",
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
        print(f"logged an sklearn model as 'model' in run {run.info.run_id} ({run.info.artifact_uri})")
    print(f"training accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
