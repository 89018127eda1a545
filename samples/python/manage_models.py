"""Register and manage models in Python: the seed's "Register your model ... by using the SDK" and
"Manage models" snippets (list, show, update, archive, restore), with ``azure.ai.ml`` -> ``runner``.

    python samples/python/manage_models.py [--workspace DIR]
"""

from __future__ import annotations

from _common import MODELS, connect, parse_args

from runner.constants import AssetTypes
from runner.entities import Model


def main() -> None:
    args = parse_args(__doc__ or "")
    ml_client = connect(args.workspace)

    # Local file (azureml-examples' local-file.yml): a custom model made of one file.
    file_model = Model(path=str(MODELS / "mlflow-model" / "model.pkl"), name="local-file-example",
                       description="Model created from local file.")
    file_model = ml_client.models.create_or_update(file_model)
    print(f"registered {file_model.name}:{file_model.version} at {file_model.path}")

    # Local MLflow folder (local-mlflow.yml), registered twice: versions 1 and 2.
    for _ in range(2):
        mlflow_model = Model(path=str(MODELS / "mlflow-model"), type=AssetTypes.MLFLOW_MODEL,
                             name="local-mlflow-example",
                             description="Model created from local MLflow model directory.")
        mlflow_model = ml_client.models.create_or_update(mlflow_model)
        print(f"registered {mlflow_model.name}:{mlflow_model.version} at {mlflow_model.path}")

    print("models:", sorted(str(model.name) for model in ml_client.models.list()))
    print("versions of local-mlflow-example:",
          [model.version for model in ml_client.models.list(name="local-mlflow-example")])

    model_example = ml_client.models.get(name="local-mlflow-example", version="1")
    print(model_example)

    # Only description and tags can change; anything else needs a new version.
    model_example.description = "This is an updated description."
    model_example.tags = {"stage": "Prod"}
    updated = ml_client.models.create_or_update(model=model_example)
    print(f"updated {updated.name}:{updated.version}: "
          f"description={updated.description!r} tags={updated.tags}")

    ml_client.models.archive(name="local-mlflow-example", version="1")
    print("after archiving version 1:",
          [model.version for model in ml_client.models.list(name="local-mlflow-example")])
    ml_client.models.restore(name="local-mlflow-example", version="1")
    ml_client.models.archive(name="local-mlflow-example")  # every version
    print("after archiving the model:", sorted(str(model.name) for model in ml_client.models.list()))
    ml_client.models.restore(name="local-mlflow-example")
    print("after restoring it:", sorted(str(model.name) for model in ml_client.models.list()))


if __name__ == "__main__":
    main()
