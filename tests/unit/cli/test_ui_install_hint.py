"""``runner ui`` without its extra says how to install it: from the checkout a runner runs from (PyPI's
``runner`` is another package), else the installed package's extra."""

from __future__ import annotations

from pathlib import Path

from runner.cli.ui import UI_EXTRA, install_hint


def test_a_checkout_installs_its_own_extra(tmp_path: Path) -> None:
    (tmp_path / "runner" / "cli").mkdir(parents=True)
    (tmp_path / "runner" / "cli" / "ui.py").write_text("")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'runner'\n")
    assert install_hint(tmp_path / "runner") == f"pip install -e '{tmp_path}[ui]'"


def test_an_installed_runner_names_the_package_extra(tmp_path: Path) -> None:
    (tmp_path / "runner" / "cli").mkdir(parents=True)  # site-packages: no pyproject.toml beside it
    assert install_hint(tmp_path / "runner") == UI_EXTRA == "pip install 'runner[ui]'"


def test_this_checkout_is_one() -> None:
    assert install_hint().startswith("pip install -e '") and install_hint().endswith("[ui]'")
