"""Fail if a built MkDocs site would make the browser fetch anything from another host.

    python scripts/check_offline_site.py [site]

Checks every HTML page's <link href>, <script src>, <img>/<iframe>/<source>/<video>/<audio> src(set),
inline <style> and style="" attributes, and every CSS file's url(...) and @import, for http(s):// or
protocol-relative // URLs. <a href> links (clicked, not loaded) and rel=canonical/alternate are fine.
Also flags what Material's JavaScript fetches at run time from a CDN or an API:
  - a repository widget (repo_url set): api.github.com / GitLab API calls for stars and forks,
  - a mermaid diagram with no local mermaid script: unpkg.com/mermaid,
  - MathJax/KaTeX from a CDN (caught by the <script src> check).
Exit status 0 if clean, 1 with one line per finding.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)     # http://, https://, //host
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)
LOADED = {"script": ["src"], "img": ["src", "srcset"], "iframe": ["src"], "source": ["src", "srcset"],
          "video": ["src", "poster"], "audio": ["src"], "embed": ["src"], "object": ["data"],
          "link": ["href"]}
NOT_LOADED_REL = {"canonical", "alternate", "author", "license", "me", "next", "prev", "search"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_style = False
        self.repo_widget = False
        self.mermaid = False
        self.mermaid_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and set(a.get("rel", "").lower().split()) <= NOT_LOADED_REL and a.get("rel"):
            pass
        else:
            for name in LOADED.get(tag, []):
                value = a.get(name, "")
                urls = [u.split()[0] for u in value.split(",") if u.strip()] if name == "srcset" else [value]
                self.found += [f"<{tag} {name}={url}>" for url in urls if EXTERNAL.match(url)]
        for url in _css_urls(a.get("style", "")):
            self.found.append(f"style attribute url({url})")
        if tag == "style":
            self.in_style = True
        if a.get("data-md-component") == "source":
            self.repo_widget = True
        if "mermaid" in a.get("class", "").split():
            self.mermaid = True
        if tag == "script" and "mermaid" in a.get("src", "") and not EXTERNAL.match(a["src"]):
            self.mermaid_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.found.extend(f"<style> url({u})" for u in _css_urls(data))


def _css_urls(css: str) -> list[str]:
    return [u for m in CSS_URL.finditer(css) for u in m.groups() if u and EXTERNAL.match(u)]


def check(site: Path) -> list[str]:
    problems: list[str] = []
    pages = sorted(site.rglob("*.html"))
    if not pages:
        return [f"{site}: no HTML pages (build the site first)"]
    for page in pages:
        parser = _Page()
        parser.feed(page.read_text(encoding="utf-8"))
        rel = page.relative_to(site)
        problems += [f"{rel}: {what}" for what in parser.found]
        if parser.repo_widget:
            problems.append(f"{rel}: repository widget (repo_url): the browser calls the GitHub/GitLab API")
        if parser.mermaid and not parser.mermaid_script:
            problems.append(f"{rel}: mermaid diagram without a local mermaid script: loaded from unpkg.com")
    for css in sorted(site.rglob("*.css")):
        problems += [f"{css.relative_to(site)}: url({u})" for u in _css_urls(css.read_text(encoding="utf-8"))]
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "site")
    problems = check(site)
    for line in problems:
        print(line)
    print(f"{len(list(site.rglob('*.html')))} pages checked, {len(problems)} external loads", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
