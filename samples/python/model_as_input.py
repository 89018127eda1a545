"""Use a model as a job input, in Python: the seed's "Use model as input in a job" snippet.

    python samples/python/model_as_input.py [--workspace DIR] [--mode download|ro_mount|direct]

download and ro_mount read the sample MLflow model; direct (allowed for custom_model folders, not for
mlflow_model inputs) reads the sample custom model by URI. The job verifies what it reads.
"""

from __future__ import annotations

from _common import CODE, MODELS, SKLEARN_ENV, connect, parse_args, run_to_end

from runner import Input, command
from runner.constants import AssetTypes


def main() -> None:
    args = parse_args(__doc__ or "", [("--mode", {"default": "ro_mount",
                                                  "choices": ["download", "ro_mount", "direct"]})])
    ml_client = connect(args.workspace)
    if args.mode == "direct":
        my_job_inputs = {"input_model": Input(type=AssetTypes.CUSTOM_MODEL, path=str(MODELS / "custom-model"),
                                              mode="direct")}
        run = "python read_model_direct.py --model_uri ${{inputs.input_model}}"
    else:
        my_job_inputs = {"input_model": Input(type=AssetTypes.MLFLOW_MODEL, path=str(MODELS / "mlflow-model"),
                                              mode=args.mode)}
        readonly = " --expect-readonly" if args.mode == "ro_mount" else ""
        run = "python check_model.py --model ${{inputs.input_model}} --type mlflow_model" + readonly

    job = command(
        code=str(CODE),  # local path where the code is stored
        command="ls ${{inputs.input_model}} && " + run,
        inputs=my_job_inputs,
        environment=SKLEARN_ENV,
        compute="cpu-cluster",  # accepted and ignored: everything runs on this machine
        display_name=f"model-as-input-{args.mode}",
    )
    run_to_end(ml_client, job)


if __name__ == "__main__":
    main()
