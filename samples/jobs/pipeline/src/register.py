"""Pass a model on to be registered when its accuracy is good enough; fail (registering nothing) when not.

    python register.py --model <model folder> --metrics <folder with metrics.json> --min_accuracy 0.9
                       --out <output folder: registered as a model version when the step completes>
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--min_accuracy", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    accuracy = json.loads((args.metrics / "metrics.json").read_text())["accuracy"]
    if accuracy < args.min_accuracy:
        sys.exit(f"accuracy {accuracy:.3f} is below {args.min_accuracy}: not registering the model")
    shutil.copytree(args.model, args.out, dirs_exist_ok=True)
    print(f"accuracy {accuracy:.3f} >= {args.min_accuracy}: the model goes to the registry")


if __name__ == "__main__":
    main()
