"""Write a model as a job output and register it, in Python: the seed's "Use model as output in a job"
snippet, then "Saving model from a named output" (``azureml://jobs/<job>/outputs/<output>``).

    python samples/python/model_as_output.py [--workspace DIR] [--mode upload|rw_mount]
"""

from __future__ import annotations

from _common import CODE, MODELS, SKLEARN_ENV, connect, parse_args, run_to_end

from runner import Input, Output, command
from runner.constants import AssetTypes
from runner.entities import Model


def main() -> None:
    args = parse_args(__doc__ or "", [("--mode", {"default": "upload", "choices": ["upload", "rw_mount"]}),
                                      ("--model-name", {"default": "model-from-job-output"})])
    ml_client = connect(args.workspace)
    my_job_inputs = {
        "input_model": Input(type=AssetTypes.MLFLOW_MODEL, path=str(MODELS / "mlflow-model")),
        "input_data": Input(type=AssetTypes.URI_FILE,
                            path=str(MODELS / "mlflow-model" / "input_example.json")),
    }
    my_job_outputs = {"output_folder": Output(type=AssetTypes.CUSTOM_MODEL, mode=args.mode)}
    job = command(
        code=str(CODE),  # local path where the code is stored
        command="head -c 200 ${{inputs.input_data}} && python train_model.py"
                " --input_model ${{inputs.input_model}} --output ${{outputs.output_folder}} --format custom",
        inputs=my_job_inputs,
        outputs=my_job_outputs,
        environment=SKLEARN_ENV,
        compute="cpu-cluster",
        display_name=f"model-as-output-{args.mode}",
    )
    finished = run_to_end(ml_client, job)

    run_model = Model(
        path=f"azureml://jobs/{finished.name}/outputs/output_folder",
        name=args.model_name,
        description=f"Model written by job {finished.name} through {args.mode}.",
        type=AssetTypes.CUSTOM_MODEL,
    )
    registered = ml_client.models.create_or_update(run_model)
    print(f"registered {registered.name}:{registered.version} from {registered.path}")
    print(f"lineage: job {registered.job_name}")


if __name__ == "__main__":
    main()
