"""What the asset commands (``runner model``, ``data``, ``environment``, ``component``) share: az's
generic update arguments and the version/label rule.

    runner data update -n iris -v 1 --set description="New" --set tags.stage=Prod \\
        --add tags team=ml owner=me --remove tags.old

``--set <field>=<value>`` (``description``, ``tags.<key>``, ``tags={json}``), ``--add tags <key>=<value>
...`` (one or more pairs) and ``--remove <field>`` (``tags.<key>``, ``tags``, ``description``), as
``az ml model update`` / ``az ml data update`` take them. ``--add`` takes several words, which click
options cannot: the command collects it from its extra arguments (``add_arguments``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import click

from runner.errors import ResolveError, RunnerError, SpecError
from runner.spec.names import check_label

UPDATE_HINT = ('--set description="...", --set tags.<key>=<value>, --add tags <key>=<value> or '
               "--remove tags.<key>")
# click: unknown options (--add) and their words are left in ctx.args, in order
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


class SeveralValues(click.Command):
    """A command whose list options take several words after one flag, as az's do (argparse's
    ``nargs='+'``): ``--tags a=1 b=2`` means ``--tags a=1 --tags b=2``. click gives an option one word
    per occurrence, so the words up to the next option are given the flag again before parsing."""

    several: ClassVar[frozenset[str]] = frozenset({"--tags", "--set", "--remove"})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args, self.several))


def spread_values(args: list[str], flags: frozenset[str]) -> list[str]:
    """``[--tags, a=1, b=2]`` -> ``[--tags, a=1, --tags, b=2]`` for each flag in ``flags``."""
    spread: list[str] = []
    current: str | None = None  # the flag the words being read belong to
    for word in args:
        if word.startswith("-"):
            flag = word.split("=", 1)[0]
            current = flag if flag in flags and word != "--" else None
        elif current is not None and spread[-1] != current:
            spread.append(current)
        spread.append(word)
    return spread


class ListedOnly(click.Option):
    """An option ``--help`` lists that the command reads from its extra arguments itself (``--add``: several
    words, which click's parser cannot give one option): never given to click's parser, nor to the
    command's function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, expose_value=False, **kwargs)

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        return None


add_option = click.option("--add", cls=ListedOnly, metavar="tags KEY=VALUE...",
                          help="Add tags: --add tags <key>=<value> [<key>=<value> ...] (repeatable; "
                               "as az's generic update).")

# a model's or data asset's field -> the flag of ``create`` that gives it
CREATE_FLAGS = {"name": "--name", "version": "--version", "path": "--path", "type": "--type",
                "description": "--description", "tags": "--tags", "stage": "--stage",
                "datastore": "--datastore"}


@contextmanager
def flags_named(given: Mapping[str, object], flags: Mapping[str, str] = CREATE_FLAGS) -> Iterator[None]:
    """An error about a field the command line gave (``given``: field -> its value, None when not given)
    names the flag the user typed (``--path``, not ``path``); the field stays the Python caller's."""
    try:
        yield
    except RunnerError as err:
        field = (err.field or "").split(".")[0]
        if field not in flags or given.get(field) is None:
            raise
        named = err.located(flags[field], None, python_field=err.python_field or err.field)
        if named is err:  # it says where already: a line of the file
            raise
        raise named from err


@dataclass
class Update:
    set_values: dict[str, str] = field(default_factory=dict)
    add_values: dict[str, str] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


def parse_update(set_: list[str] | None, remove: list[str] | None, extra: list[str]) -> Update:
    """The update a command line asks for; one ``SpecError`` for anything malformed."""
    update = Update(remove=list(remove or []))
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set expects field=value, got '{item}'", field="--set",
                            hint="--set tags.stage=Prod or --set description=\"...\"")
        update.set_values[key.strip()] = value
    update.add_values = add_arguments(extra)
    if not (update.set_values or update.add_values or update.remove):
        raise SpecError("nothing to update", hint=UPDATE_HINT)
    return update


def add_arguments(extra: list[str]) -> dict[str, str]:
    """``--add tags k=v [k=v ...]`` (repeatable) from the command's extra arguments -> ``{"tags.k": v}``."""
    added: dict[str, str] = {}
    words = list(extra)
    while words:
        word = words.pop(0)
        if word != "--add":
            raise SpecError(f"unexpected argument '{word}'", hint=UPDATE_HINT)
        if not words or words[0].startswith("--"):
            raise SpecError("--add expects a field and key=value pairs", hint="--add tags stage=Prod team=ml")
        target = words.pop(0)
        if target != "tags":
            raise SpecError(f"--add {target}: only tags (a map) can be added to; versions are immutable "
                            "apart from description and tags",
                            hint='--add tags <key>=<value>, or --set description="..."')
        pairs: list[str] = []
        while words and not words[0].startswith("--"):
            pairs.append(words.pop(0))
        if not pairs:
            raise SpecError(f"--add {target}: nothing to add", hint=f"--add {target} key=value")
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise SpecError(f"--add {target} expects key=value pairs, got '{pair}'",
                                hint=f"--add {target} stage=Prod")
            added[f"{target}.{key}"] = value
    return added


def one_of(version: str | None, label: str | None, *, required: bool = True) -> None:
    """``--version`` or ``--label`` (not both; one of them unless ``required`` is False)."""
    if version and label:
        raise SpecError("give --version or --label, not both", hint="--version 1, or --label latest")
    if required and not version and not label:
        raise SpecError("give --version or --label", hint="--version 1, or --label latest")


def version_or_label(version: str | None, label: str | None, *, noun: str, name: str) -> None:
    """``show`` where both may be omitted (the latest version): not both, and no label but ``latest``
    (``environment show``, ``component show``; the same refusal as a model's or data asset's)."""
    one_of(version, label, required=False)
    check_label(label, noun=noun, name=name, cli=noun)


def which_versions(version: str | None) -> str:
    """What an archive or restore changed, for its one line: `` version 2`` or `` (every version)``."""
    return f" version {version}" if version else " (every version)"


def restored(noun: str, cli: str, name: str, version: str | None, staying: list[str], *,
             registry: str | None = None) -> str:
    """A restore's one line: the version it restored, or the whole asset and, when some of its versions
    were archived on their own (``staying``, oldest first: they stay archived, as in Azure), which and how
    to restore them (``--version``); "(every version)" when none stays."""
    if version or not staying:
        return f"restored {noun} '{name}'" + which_versions(version)
    from runner.workspace.asset_archive import staying_notice  # (sqlite3: not at a cold job validate)

    where = f" --registry-name {registry}" if registry else ""
    return staying_notice(noun, name, staying,
                          restore=lambda one: f"runner {cli} restore --name {name} --version {one}{where}",
                          list_them=f"runner {cli} list --name {name} --archived-only{where}")


def check_local_path(path: str | None, *, allowed: str) -> None:
    """A local ``--path`` (no scheme) given on the command line must exist; said with a hint for the command
    line (relative to the current directory), before anything is registered. ``allowed``: what else
    ``--path`` takes (``"an azureml:// URI, runs:/ or a URL"``)."""
    if not path or ":" in path.split("/", 1)[0]:  # azureml:..., runs:/..., https://...: resolved later
        return
    local = Path(path).expanduser()
    if local.exists():
        return
    full = local.absolute()
    parent = next((p for p in full.parents if p.is_dir()), None)
    names = sorted(p.name for p in parent.iterdir())[:15] if parent is not None else []
    near = f"; the nearest existing folder '{parent}' contains: {', '.join(names) or 'nothing'}" \
        if parent else ""
    raise ResolveError(f"'{path}' does not exist", field="--path",
                       hint=f"give an existing local file or folder (a relative path is relative to the "
                            f"current directory, {Path.cwd()}), or {allowed}{near}")
