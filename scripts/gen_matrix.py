"""The supported-modes matrix as Markdown, from ``runner.modes.MATRIX``: python scripts/gen_matrix.py

The docs build puts the same text into docs/guides/modes.md (``<!-- generated: modes-matrix -->``,
scripts/mkdocs_hooks.py), so the page always shows the table validation uses.
"""

from __future__ import annotations

import sys

from runner.modes import DEFAULT_MODE, matrix_markdown


def matrix_text() -> str:
    defaults = ", ".join(f"{direction.value}s `{mode.value}`" for direction, mode in DEFAULT_MODE.items())
    return (f"{matrix_markdown()}\n\n"
            f"Defaults when `mode` is omitted: {defaults}. A row with no ✓ is refused.\n")


def main() -> None:
    sys.stdout.write(matrix_text())


if __name__ == "__main__":
    main()
