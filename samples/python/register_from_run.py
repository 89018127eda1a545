"""Register an MLflow-logged model from its run, in Python: the seed's "MLflow" option
(``runs:/<run-id>/model/``), then use the registered model as the input of a second job.

    python samples/python/register_from_run.py [--workspace DIR]
"""

from __future__ import annotations

from _common import CODE, SKLEARN_ENV, connect, parse_args, run_to_end

from runner import Input, command
from runner.constants import AssetTypes, ModelType
from runner.entities import Model


def main() -> None:
    args = parse_args(__doc__ or "")
    ml_client = connect(args.workspace)
    train = command(code=str(CODE), command="python log_mlflow_model.py", environment=SKLEARN_ENV,
                    display_name="train-mlflow-log-model", experiment_name="samples")
    finished = run_to_end(ml_client, train)

    run_model = Model(
        path=f"runs:/{finished.name}/model/",
        name="run-model-example",
        description="Model created from run.",
        type=ModelType.MLFLOW,
    )
    registered = ml_client.models.create_or_update(run_model)
    print(f"registered {registered.name}:{registered.version} from {registered.path}"
          f" (job {registered.job_name})")

    score = command(
        code=str(CODE),
        command="python score_model.py --model ${{inputs.model}}",
        inputs={"model": Input(type=AssetTypes.MLFLOW_MODEL,
                               path=f"azureml:{registered.name}:{registered.version}", mode="download")},
        environment=SKLEARN_ENV, display_name="score-run-model",
    )
    run_to_end(ml_client, score)


if __name__ == "__main__":
    main()
