"""Chain two jobs through a registered model, in Python: job A writes a model (rw_mount) to a datastore
folder; it is registered from the datastore path (the seed's "Datastore" option) and, separately, from
A's named output; job B reads each registered model (download) and scores it.

    python samples/python/chain_models.py [--workspace DIR]
"""

from __future__ import annotations

from _common import CODE, SKLEARN_ENV, connect, parse_args, run_to_end

from runner import Input, Output, command
from runner.constants import AssetTypes
from runner.entities import Model

DATASTORE_FOLDER = "azureml://datastores/workspaceblobstore/paths/models/chained-model"


def main() -> None:
    args = parse_args(__doc__ or "")
    ml_client = connect(args.workspace)
    train = command(
        code=str(CODE),
        command="python train_model.py --output ${{outputs.trained_model}} --format custom",
        outputs={"trained_model": Output(type=AssetTypes.CUSTOM_MODEL, path=DATASTORE_FOLDER,
                                         mode="rw_mount")},
        environment=SKLEARN_ENV, display_name="chain-train",
    )
    trained = run_to_end(ml_client, train)

    from_datastore = ml_client.models.create_or_update(
        Model(path=DATASTORE_FOLDER, name="chained-model", type=AssetTypes.CUSTOM_MODEL,
              description="Registered from a datastore path."))
    from_output = ml_client.models.create_or_update(
        Model(path=f"azureml://jobs/{trained.name}/outputs/trained_model", name="chained-model",
              type=AssetTypes.CUSTOM_MODEL, description=f"Registered from job {trained.name}'s output."))
    for model in (from_datastore, from_output):
        print(f"registered {model.name}:{model.version} from {model.path} (job: {model.job_name or '-'})")
        score = command(
            code=str(CODE),
            command="python score_model.py --model ${{inputs.trained_model}}",
            inputs={"trained_model": Input(type=AssetTypes.CUSTOM_MODEL,
                                           path=f"azureml:{model.name}:{model.version}", mode="download")},
            environment=SKLEARN_ENV, display_name=f"chain-score-v{model.version}",
        )
        run_to_end(ml_client, score)


if __name__ == "__main__":
    main()
