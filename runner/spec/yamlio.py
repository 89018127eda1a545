"""Load YAML keeping where every key and item was written, so errors can point at file:line:col.

    doc = load_yaml(path)            # or load_yaml_text(text, file=path)
    doc.data                         # plain Python (dict / list / str / int / float / bool / None)
    doc.where(("inputs", "x", "mode"))   # SourceLocation of that key (or the nearest parent that exists)
    doc.where("inputs.x.mode")           # the same, dotted

Syntax errors (bad indentation, a tab, an unclosed quote, a duplicate key) become one ``SpecError`` with
file:line:col and a hint. Files are read whole: specs are small text files, never data.

Plain scalars mean what they mean to azure-ai-ml and ``az ml``, which read these files with PyYAML (YAML
1.1): ``yes``/``no``/``on``/``off`` are booleans, a float needs a dot (``1e-3`` is the text "1e-3",
``1.0e-3`` a number), ``0755`` is octal. So a literal input renders into the command as Azure renders it.

Hostile input is answered fast (issue 20): a spec is at most ``MAX_SPEC_BYTES``, nested at most
``MAX_DEPTH`` levels (checked by the scanner and the composer, before any recursion could overflow)
and holds at most ``MAX_VALUES`` values once its aliases (``*name``) are expanded, so an alias bomb
("billion laughs") is refused while it is read, before it expands; an alias inside the node it names
is refused too. Each of these is one ``SpecError`` at the place it happens.
"""

from __future__ import annotations

import io
import logging
import re
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scanner import RoundTripScanner

from runner.errors import SourceLocation, SpecError

logger = logging.getLogger(__name__)

MAX_SPEC_BYTES = 1024 * 1024  # a spec larger than this is not a spec (and would take seconds to parse)
MAX_DEPTH = 64  # levels of nested mappings/sequences (Azure ML's own job files use fewer than 10)
MAX_VALUES = 10_000  # values (scalars, mappings, sequences) with every alias expanded

FieldPath = tuple[str | int, ...]

_SYNTAX_HINT = ("check the indentation (spaces only, children indented more than their parent), "
                "that every 'key: value' has a space after the colon, and that quotes are closed")


@dataclass
class YamlDoc:
    """A loaded YAML document: plain data plus the position of every mapping key and sequence item."""

    data: Any
    file: Path | None = None
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)  # 1-based (line, col)
    lines: list[str] = field(default_factory=list, repr=False)  # the source text, for find()
    base: Path | None = None  # where relative paths are relative to, when not the file's folder (a pipe)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the document are relative to."""
        if self.base is not None:
            return self.base
        return self.file.parent if self.file else Path.cwd()

    def where(self, field_path: Sequence[str | int] | str = ()) -> SourceLocation:
        """Location of ``field_path``; falls back to the nearest written parent, then the file."""
        parts = split_field_path(field_path) if isinstance(field_path, str) else tuple(field_path)
        for end in range(len(parts), 0, -1):
            pos = self.positions.get(_normalize(parts[:end]))
            if pos is not None:
                return SourceLocation(self.file, pos[0], pos[1])
        return SourceLocation(self.file, 1 if self.file else None, 1 if self.file else None)

    def find(self, text: str, *, after: SourceLocation | None = None) -> SourceLocation | None:
        """Where ``text`` first occurs at or after ``after`` (e.g. an expression inside ``command``)."""
        start = (after.line or 1) if after else 1
        for number in range(start, len(self.lines) + 1):
            column = self.lines[number - 1].find(text)
            if column >= 0:
                return SourceLocation(self.file, number, column + 1)
        return None


def split_field_path(text: str) -> FieldPath:
    """``"inputs.x.0"`` -> ``("inputs", "x", 0)``."""
    if not text:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def _normalize(parts: Sequence[str | int]) -> FieldPath:
    return tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in parts)


# PyYAML's YAML 1.1 rules (yaml/resolver.py), where ruamel's 1.1 table differs: ruamel also reads
# y/Y/n/N as booleans and accepts a float without a dot in its mantissa
_PYYAML_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
_PYYAML_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_BY_TAG = {"tag:yaml.org,2002:bool": _PYYAML_BOOL, "tag:yaml.org,2002:float": _PYYAML_FLOAT}


class AzureResolver(VersionedResolver):
    """YAML 1.1 resolved as PyYAML resolves it (what Azure's tools read job files with)."""

    @property
    def versioned_resolver(self) -> Any:
        table = super().versioned_resolver
        if not getattr(self, "_as_pyyaml", False):
            for first, entries in table.items():
                table[first] = [(tag, _BY_TAG.get(str(tag), regexp)) for tag, regexp in entries]
            self._as_pyyaml = True
        return table


def _loader() -> YAML:
    """A round-trip loader that reads YAML 1.1 as Azure does, with the bounds on size, depth and
    alias expansion (see the module)."""
    yaml = YAML(typ="rt")
    yaml.Resolver = AzureResolver
    yaml.version = (1, 1)
    yaml.Scanner = _BoundedScanner
    yaml.Composer = _BoundedComposer
    return yaml


def load_yaml(path: str | Path) -> YamlDoc:
    """Load one YAML file (``-``: standard input). Raises ``SpecError`` when it cannot be read or parsed.
    A pipe (``-``, ``/dev/stdin``, ``<(...)``) has no folder: its relative paths are relative to the
    current directory, and its messages name it as given."""
    if str(path) == "-":
        return _load_pipe(sys.stdin.read(), Path("<stdin>"))
    file = Path(path)
    try:
        if not stat.S_ISREG(file.stat().st_mode) and not file.is_dir():
            with file.open(encoding="utf-8") as handle:
                return _load_pipe(handle.read(MAX_SPEC_BYTES + 1), file.absolute())
        size = file.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(f"{file} is {size} bytes; a spec file is expected to be small",
                            where=SourceLocation(file), hint="pass the job/model YAML, not a data file")
        with file.open(encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError as exc:
        raise SpecError(f"file not found: {file}", hint="check the path given with --file",
                        python_hint="check the path given (a relative one is read from the current "
                                    "directory)") from exc
    except IsADirectoryError as exc:
        raise SpecError(f"{file} is a folder, not a YAML file", hint="pass the YAML file itself") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{file} is not UTF-8 text", where=SourceLocation(file),
                        hint="save the YAML file as UTF-8") from exc
    except OSError as exc:
        raise SpecError(f"cannot read {file}: {exc.strerror}", where=SourceLocation(file)) from exc
    return load_yaml_text(text, file=file.resolve())


def _load_pipe(text: str, shown: Path) -> YamlDoc:
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{shown} holds more than {MAX_SPEC_BYTES} bytes; a spec is expected to be small",
                        hint="pass the job/model YAML, not a data file")
    doc = load_yaml_text(text, file=shown)
    doc.base = Path.cwd()
    return doc


def load_yaml_text(text: str, *, file: Path | None = None) -> YamlDoc:
    """Parse YAML text (``file`` is used for locations and relative paths only)."""
    yaml = _loader()
    try:
        raw = yaml.load(io.StringIO(text))
    except _Refused as exc:
        raise _syntax_error(exc, file, "refused YAML", exc.hint) from exc
    except DuplicateKeyError as exc:
        key = re.search(r'duplicate key "([^"]*)"', str(exc.problem or ""))
        mark = exc.problem_mark
        where = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file)
        raise SpecError(f"duplicate key '{key[1] if key else '?'}'", where=where,
                        hint="each key may appear once in a mapping; remove or rename one") from exc
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, file, "invalid YAML", _SYNTAX_HINT) from exc
    except YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", where=SourceLocation(file), hint=_SYNTAX_HINT) from exc
    positions: dict[FieldPath, tuple[int, int]] = {}
    data = _to_plain(raw, (), positions, file)
    return YamlDoc(data=data, file=file, positions=positions, lines=text.splitlines())


_DEPTH_HINT = (f"a job or asset file is nested at most {MAX_DEPTH} levels deep; "
               "flatten the structure (or pass big data as a file input)")
_SIZE_HINT = (f"a job or asset file holds at most {MAX_VALUES:,} values: pass big data as an input "
              "file, and repeat fewer values with aliases (*name)")


class _Refused(MarkedYAMLError):
    """A document refused while it is read (too deep, too many values, a recursive alias)."""

    def __init__(self, problem: str, mark: Any, hint: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


class _BoundedScanner(RoundTripScanner):
    """ruamel's scanner, refusing nesting deeper than ``MAX_DEPTH`` as soon as it reads it: deep flow
    collections (``[[[[...``) otherwise cost it seconds (each one a possible key it looks ahead for)."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803 - ruamel's
        if len(self.flow_context) >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", self.reader.get_mark(), _DEPTH_HINT)
        super().fetch_flow_collection_start(TokenClass, to_push)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", self.reader.get_mark(), _DEPTH_HINT)
        return bool(super().add_indent(column))


class _BoundedComposer(Composer):
    """ruamel's composer, counting what each node expands to (an alias counts as the whole node it
    names), so an alias bomb is refused before anything expands it; and bounding the depth."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.warn_double_anchors = False  # a re-defined anchor is valid YAML: no warning on stderr
        self._sizes: dict[int, int] = {}  # id(node) -> values it expands to, once composed
        self._open: list[int] = [0]  # values so far in each node being composed (the document's first)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            target = self.anchors.get(event.anchor)
            size = self._sizes.get(id(target)) if target is not None else 1
            if size is None:  # its node is still being composed: it contains itself
                raise _Refused(f"alias *{event.anchor} is inside the node it names (&{event.anchor})",
                               event.start_mark, "an alias may only repeat a node written before it")
            self._count(size, event)
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark, _DEPTH_HINT)
        self._open.append(1)
        node = super().compose_node(parent, index)
        size = self._open.pop()
        self._sizes[id(node)] = size
        self._count(size, event)
        return node

    def _count(self, size: int, event: Any) -> None:
        self._open[-1] += size
        if sum(self._open) > MAX_VALUES:  # (at most MAX_DEPTH nodes are open)
            raise _Refused(f"more than {MAX_VALUES:,} values (an alias counts as all it repeats)",
                           event.start_mark, _SIZE_HINT)


# ruamel's wording -> what a user understands
_PLAIN_WORDS = (
    ("expected <block end>", "bad indentation: this line does not line up with the keys above it"),
    ("mapping values are not allowed here",
     "a 'key: value' where it is not allowed (wrong indentation, or a value containing ': ' "
     "that needs quotes)"),
    ("found character '\\t'", "a tab character; YAML indentation must use spaces"),
    ("could not find expected ':'", "a line that is not 'key: value' (missing ':' or bad indentation)"),
    ("found unexpected end of stream", "the file ends inside an unclosed quote or bracket"),
)


def _syntax_error(exc: MarkedYAMLError, file: Path | None, what: str, hint: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    where = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file)
    problem = exc.problem or exc.context or str(exc)
    detail = problem.splitlines()[0] if problem else ""
    if exc.context and exc.problem and exc.context != exc.problem:
        detail = f"{exc.context.splitlines()[0]}, {detail}"
    for raw, plain in _PLAIN_WORDS:
        if raw in detail:
            detail = plain
            break
    return SpecError(f"{what}: {detail}", where=where, hint=hint)


def _to_plain(node: Any, path: FieldPath, positions: dict[FieldPath, tuple[int, int]],
              file: Path | None = None) -> Any:
    """Convert ruamel's round-trip nodes to plain Python, recording positions (1-based)."""
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, _key_part(key))
            try:
                line, col = node.lc.key(key)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):  # merged keys (<<:) have no own position
                pass
            _refuse_nul(key, child, positions, file)
            out[_plain_key(key)] = _to_plain(value, child, positions, file)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                line, col = node.lc.item(index)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_to_plain(value, child, positions, file))
        return items
    _refuse_nul(node, path, positions, file)
    return _plain_scalar(node)


def _refuse_nul(value: Any, path: FieldPath, positions: dict[FieldPath, tuple[int, int]],
                file: Path | None) -> None:
    """No name, path, command or variable can hold a NUL character (the system would cut it there,
    or refuse it when the job starts): refused where it is written."""
    if isinstance(value, str) and "\0" in value:
        line, col = positions.get(path, (None, None))
        raise SpecError("a NUL character (\\0) in a value or key", field=".".join(map(str, path)) or None,
                        where=SourceLocation(file, line, col),
                        hint="remove the \\0 escape: names, paths, commands and variables cannot hold it")


def _key_part(key: Any) -> str | int:
    return key if isinstance(key, int) and not isinstance(key, bool) else str(key)


def _plain_key(key: Any) -> Any:
    return _plain_scalar(key)


def _plain_scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, ScalarBoolean, quoted strings) -> builtins."""
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        # ruamel's ScalarBoolean subclasses int
        if type(value).__name__ == "ScalarBoolean":
            return bool(value)
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def dump_yaml(data: Any, dest: str | Path | io.TextIOBase) -> None:
    """Write plain data as block-style YAML (keys in the order given) to a path or a text stream, quoting
    what YAML 1.1 would read otherwise (``'yes'``, ``'on'``) so that it loads back equal."""
    yaml = _loader()
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue().removeprefix("%YAML 1.1\n---\n")  # the version is the reader's default
    if isinstance(dest, io.TextIOBase):
        dest.write(text)
        return
    Path(dest).write_text(text, encoding="utf-8")
