"""The site builds with --strict (no broken link, anchor, nav entry or API reference), has every CLI
command on its generated page, and loads nothing from another host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from docs_pages import IN_CI, REPO, SCRIPTS


def _require_mkdocs() -> None:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as exc:
        message = f"the docs packages are not installed ({exc}): pip install -e '.[docs]'"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_mkdocs()
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    return site


def test_site_loads_nothing_from_another_host(site: Path) -> None:
    check = subprocess.run([sys.executable, str(SCRIPTS / "check_offline_site.py"), str(site)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 external loads" in check.stderr


def test_offline_check_finds_an_external_load(tmp_path: Path) -> None:
    """The check itself can fail: a page with a CDN script and Google Fonts is reported."""
    (tmp_path / "index.html").write_text(
        '<html><head><link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<script src="//cdn.example.org/x.js"></script></head><body><a href="https://example.org">'
        'a link is fine</a></body></html>')
    check = subprocess.run([sys.executable, str(SCRIPTS / "check_offline_site.py"), str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 1
    assert "fonts.googleapis.com" in check.stdout and "cdn.example.org" in check.stdout
    assert "example.org\">" not in check.stdout


def test_cli_page_has_every_command(site: Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import docs_cli
    finally:
        sys.path.remove(str(SCRIPTS))
    page = (site / "reference" / "cli" / "index.html").read_text()
    commands = docs_cli.commands()
    assert "runner job create" in commands and "runner model archive" in commands
    for command in commands:
        assert f'id="{docs_cli.anchor(command.split())}"' in page, command


def test_generated_sections_are_in_the_pages(site: Path) -> None:
    modes = (site / "guides" / "modes" / "index.html").read_text()
    assert "<code>mlflow_model</code>" in modes and "Defaults when <code>mode</code> is omitted" in modes
    api = (site / "reference" / "python-api" / "index.html").read_text()
    import runner

    for name in runner.__all__:
        if not name.startswith("_"):
            assert f'id="runner.{name}"' in api, name
    yaml_page = (site / "reference" / "yaml" / "index.html").read_text()
    assert "queue_settings" in yaml_page and "there is no queue locally" in yaml_page
    assert "generated:" not in modes + api + yaml_page
    for html in site.rglob("*.html"):
        text = html.read_text()
        assert "<!-- norun" not in text and "<!-- needs" not in text and "<!-- setup:" not in text, html


def test_docs_config_loads_nothing_from_the_internet() -> None:
    """The settings that would make the site or its build reach another host stay off."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    assert config["theme"].get("font") is False, "theme.font: false (else Google Fonts are loaded)"
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in config.get("plugins", [])]
    for name in ("social", "material/social", "privacy", "material/privacy", "offline", "optimize"):
        assert name not in plugins, f"plugin {name} downloads at build time or is not wanted"
    assert "repo_url" not in config, "repo_url makes the browser call the GitHub API on every page"
    handlers = config["plugins"][plugins.index("mkdocstrings")]["mkdocstrings"]["handlers"]
    assert not handlers["python"].get("inventories"), "inventories are fetched from the internet"
    assert not [u for u in config.get("extra_javascript", []) + config.get("extra_css", [])
                if str(u).startswith(("http:", "https:", "//"))]
    fences = [e for e in config["markdown_extensions"] if isinstance(e, dict) and "pymdownx.superfences" in e]
    assert not fences, "custom fences (mermaid) make Material load mermaid from unpkg.com"
