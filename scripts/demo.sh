#!/usr/bin/env bash
# The README's first command: provision this machine, then walk through the seed document end to end in a
# throwaway workspace:
#   1. map Azure ML's sklearn-1.5 environment to the local image runner/python:3.11
#   2. register the sample MLflow model (version 1)
#   3. run a job that reads it through ro_mount and writes a retrained model through upload (--stream)
#   4. register that output as version 2 (azureml://jobs/<job>/outputs/model_output)
#   5. show both versions, with the lineage of version 2 (the job) and the job's input (version 1)
# Every command is printed before it runs, so it can be copied. Nothing outside the throwaway workspace
# (and what provisioning installs) is touched.
#
# Environment: RUNNER_SKIP_PROVISION=1 skips provisioning (the machine is known to be ready).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

step() { printf '\n==> %s\n' "$*"; }
run() { # print the command (quoted so it can be copied), then run it
    local line="\$" arg
    for arg in "$@"; do
        if [[ $arg =~ [[:space:]] ]]; then line+=" '$arg'"; else line+=" $arg"; fi
    done
    printf '%s\n' "$line"
    "$@"
}
fail() {
    printf '\ndemo: %s\n' "$*" >&2
    exit 1
}

step "Provisioning: Docker engine, FUSE, Azurite, the runner package and the base images (scripts/provision.sh)"
if [ "${RUNNER_SKIP_PROVISION:-0}" = "1" ]; then
    echo "skipped (RUNNER_SKIP_PROVISION=1)"
else
    bash "$REPO/scripts/provision.sh"
fi
if ! command -v runner >/dev/null 2>&1; then
    # An editable install whose console script is not on PATH yet (e.g. pyenv before `pyenv rehash`).
    runner() { python3 -m runner "$@"; }
fi

export COLUMNS="${COLUMNS:-160}" # tables are not truncated when the output is not a terminal
RUNNER_WORKSPACE="$(mktemp -d "${TMPDIR:-/tmp}/runner-demo.XXXXXX")"
export RUNNER_WORKSPACE
JOB="demo-retrain-$(date +%Y%m%d-%H%M%S)"
MODEL=sample-mlflow-model

step "Connect: a throwaway workspace (runner reads RUNNER_WORKSPACE; --workspace DIR does the same)"
echo "RUNNER_WORKSPACE=$RUNNER_WORKSPACE"

step "Map Azure ML's environment azureml://registries/azureml/environments/sklearn-1.5 to a local image"
run runner environment create --name sklearn-1.5 --image runner/python:3.11 -o table

step "Register the sample MLflow model from a local folder (copied into the default datastore)"
run cat samples/models/mlflow-model.yml
run runner model create --file samples/models/mlflow-model.yml -o table

step "Run a job: model version 1 in through ro_mount, a retrained MLflow model out through upload"
run cat samples/jobs/model-output-upload.yml
run runner job create --file samples/jobs/model-output-upload.yml --name "$JOB" \
    --set "inputs.input_model.path=azureml:$MODEL:1" --stream ||
    fail "job $JOB did not complete; see: runner job show --name $JOB (RUNNER_WORKSPACE=$RUNNER_WORKSPACE)"
run runner job show --name "$JOB"

step "Register the job's output as version 2 of the same model (lineage: the job)"
run runner model create --name "$MODEL" --type mlflow_model \
    --path "azureml://jobs/$JOB/outputs/model_output" \
    --description "Retrained by job $JOB from $MODEL:1" -o table

step "Both versions, and each one's lineage"
run runner model list --name "$MODEL"
run runner model show --name "$MODEL" --version 1
run runner model show --name "$MODEL" --version 2

status="$(runner job show --name "$JOB" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
lineage="$(runner model show --name "$MODEL" --version 2 -o json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["job_name"] or "")')"
[ "$status" = "Completed" ] || fail "job $JOB is $status, expected Completed"
[ "$lineage" = "$JOB" ] || fail "$MODEL:2 has lineage '$lineage', expected job $JOB"

step "Lineage: $MODEL:2 <- job $JOB <- $MODEL:1"
runner job show --name "$JOB" -o json | python3 -c '
import json, sys
job = json.load(sys.stdin)
name, status = job["name"], job["status"]
for key, spec in job["spec"].get("inputs", {}).items():
    path, mode, resolved = spec.get("path"), spec.get("mode"), job["inputs"][key]
    print(f"job {name} ({status}) read input {key} = {path} ({mode})")
    print(f"    resolved to {resolved}")
for key, spec in job["spec"].get("outputs", {}).items():
    mode, where = spec.get("mode"), job["outputs"][key]
    print(f"job {name} wrote output {key} ({mode}) to {where}")
'

step "Done"
echo "job $JOB: $status"
echo "$MODEL:1 registered from samples/models/mlflow-model"
echo "$MODEL:2 registered from azureml://jobs/$JOB/outputs/model_output (lineage: job $lineage)"
echo "workspace kept for exploring: RUNNER_WORKSPACE=$RUNNER_WORKSPACE  (rm -rf it when done)"
