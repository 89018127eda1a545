#!/usr/bin/env bash
# The README's end-to-end demo: provision this machine, then run the smallest real slice of `runner`.
# (Placeholder body until the sample jobs land: it will run a real sample job end to end.)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash scripts/provision.sh

echo
echo "==== runner --version"
runner --version

echo
echo "==== a job-like container: runner/python:3.11 with no network"
docker run --rm --network none runner/python:3.11 \
    python -c "import sklearn, mlflow; print(f'scikit-learn {sklearn.__version__}, mlflow {mlflow.__version__}')"
