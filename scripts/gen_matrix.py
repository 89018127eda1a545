"""Print the supported-modes matrix as Markdown (paste into the README): python scripts/gen_matrix.py"""

from __future__ import annotations

import sys

from runner.modes import DEFAULT_MODE, matrix_markdown


def main() -> None:
    defaults = ", ".join(f"{direction.value}s `{mode.value}`" for direction, mode in DEFAULT_MODE.items())
    sys.stdout.write(matrix_markdown() + "\n\n")
    sys.stdout.write(f"Defaults when `mode` is omitted: {defaults}. A row with no ✓ is refused.\n")


if __name__ == "__main__":
    main()
