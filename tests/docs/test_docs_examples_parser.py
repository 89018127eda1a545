"""The doc-example extractor and runner themselves (tests/docs_examples.py), on small pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import DocExampleError, PageRunner, output_matches, page_env, parse_page


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text)
    return path


def runner(tmp_path: Path, **kwargs: object) -> PageRunner:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return PageRunner(work, page_env(tmp_path), **kwargs)  # type: ignore[arg-type]


def test_blocks_markers_and_fences(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, '''# T

<!-- setup:bash needs: docker
echo hidden > h.txt
-->

```json title="conf/a.json"
{"a": 1}
```

<!-- norun: needs Azure -->
```bash
az login
```

- in a list:

    ```python
    x = 1
    ```

~~~~text
```bash
not a block
```
~~~~
'''))
    assert [(b.lang, b.hidden, b.norun, b.attrs.get("title"), b.needs) for b in blocks] == [
        ("bash", True, None, None, ("docker",)), ("json", False, None, "conf/a.json", ()),
        ("bash", False, "needs Azure", None, ()), ("python", False, None, None, ()),
        ("text", False, None, None, ())]
    assert blocks[3].code == "x = 1\n"
    assert blocks[4].code == "```bash\nnot a block\n```\n"


@pytest.mark.parametrize("text, message", [
    ("<!-- norun -->\n```bash\nx\n```\n", "needs a reason"),
    ("<!-- norun: why -->\n\n```bash\nx\n```\n", "right before a fence"),
    ("<!-- needs: docker -->\ntext\n```bash\nx\n```\n", "right before a fence"),
    ("<!-- norun: why -->\n", "right before a fence"),
    ("```\nx\n```\n", "without a language"),
    ("```bash\nx\n", "unclosed fence"),
    ("<!-- setup:bash\nx\n", "unclosed"),
    ("<!-- no-run: typo -->\n```bash\nx\n```\n", None),  # not a marker at all: the block runs
    ("<!-- norun:why --> trailing\n```bash\nx\n```\n", "malformed"),
])
def test_convention_errors(tmp_path: Path, text: str, message: str | None) -> None:
    if message is None:
        assert parse_page(page(tmp_path, text))[0].norun is None
        return
    with pytest.raises(DocExampleError, match=message):
        parse_page(page(tmp_path, text))


def test_state_is_shared_within_a_page(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, '''
```bash
export GREETING=hi
mkdir sub && cd sub
```

```bash
test "$GREETING" = hi
test "$(basename "$PWD")" = sub
echo "$GREETING" > g.txt
```

```python
value = open("sub/g.txt").read().strip()
```

```pycon
>>> value
'hi'
```

```console
$ echo one; echo two; echo three >&2
one
...
$ echo "$GREETING at $(date)"
hi at ...
```
'''))
    pages = runner(tmp_path)
    pages.run(blocks)
    assert pages.ran == 5


def test_failures_name_the_page_line(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, "text\n\n```bash\nfalse\n```\n"))
    with pytest.raises(AssertionError, match=r"page.md:3: bash block exited 1"):
        runner(tmp_path).run(blocks)


def test_console_output_must_match(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, "```console\n$ echo a\nb\n```\n"))
    with pytest.raises(AssertionError, match="output of `echo a` differs"):
        runner(tmp_path).run(blocks)


def test_console_continuation_and_stderr(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, "```console\n$ echo a \\\n  b\na b\n$ echo c >&2\nc\n```\n"))
    runner(tmp_path).run(blocks)


def test_a_failing_console_command_needs_its_status_shown(tmp_path: Path) -> None:
    shown = parse_page(page(tmp_path, "```console\n$ echo oops; exit 3\noops\n$ echo $?\n3\n```\n"))
    runner(tmp_path).run(shown)
    for text in ("```console\n$ false\n$ echo after\nafter\n```\n", "```console\n$ false\n```\n"):
        with pytest.raises(AssertionError, match="echo \\$\\?"):
            runner(tmp_path).run(parse_page(page(tmp_path, text)))


def test_needs_calls_require(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, "<!-- needs: docker, azurite -->\n```bash\ntrue\n```\n"))
    assert blocks[0].needs == ("docker", "azurite")
    asked: list[str] = []
    runner(tmp_path, require=asked.append).run(blocks)
    assert asked == ["docker", "azurite"]


def test_data_block_with_a_title_is_written(tmp_path: Path) -> None:
    blocks = parse_page(page(tmp_path, '```yaml title="sub/job.yml"\ncommand: echo\n```\n\n'
                                       '```bash\ngrep -q "command: echo" sub/job.yml\n```\n'))
    runner(tmp_path).run(blocks)


@pytest.mark.parametrize("expected, actual, matches", [
    ("a\n...\nc", "a\nb\nb2\nc", True),
    ("a\n...\nc", "a\nc", True),
    ("a ... c", "a bbb c", True),
    ("a ... c", "a b\nc", False),
    ("a\nc", "a\nb\nc", False),
    ("x\n...", "x\ny\nz", True),
    ("x  \n", "x", True),
    ("(a+)", "(a+)", True),
])
def test_output_matching(expected: str, actual: str, matches: bool) -> None:
    assert output_matches(expected, actual) is matches
