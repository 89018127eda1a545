"""Where the tests find the checkout and the Azure ML examples (``shared/`` beside the checkout).

``RUNNER_EXAMPLES_DIR`` overrides the examples folder for a checkout that does not sit beside ``shared/``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = Path(os.environ.get("RUNNER_EXAMPLES_DIR", REPO.parent / "shared" / "azureml-examples"))
