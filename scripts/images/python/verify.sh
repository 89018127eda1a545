#!/usr/bin/env bash
# Check a freshly built runner/python image: the packages the samples need import.
set -euo pipefail
docker run --rm --network none "$1" python -c "import sklearn, mlflow, numpy, pandas, fsspec, adlfs, yaml, cloudpickle"
