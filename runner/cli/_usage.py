"""The command line's own usage errors (click's: a bad choice or value, an unknown option or command, a
missing option or value) as runner's one message, a ``SpecError`` (exit 2, as click's usage errors)
printed as every ``RunnerError`` is (``runner.cli.main``), instead of click's usage block::

    $ runner model create --name m --type mlflow --path ./m
    error: --type: 'mlflow' is not one of 'custom_model', 'mlflow_model', 'triton_model' (did you mean ...)
      hint: --type mlflow_model; runner model create --help lists its options

``install`` wires it into the click tree (``runner.cli.main``: the root, and each group as it is first
imported): each command's parsing gives the error its context (click's parser leaves some without one),
and the root converts it (its own options, and everything below it, which runs inside its ``invoke``).
A command line with no arguments still prints the help, on stdout (click's ``NoArgsIsHelpError`` would
print it on stderr), exit 2.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Callable, Iterable
from typing import Any

import click
from click import exceptions as click_errors

from runner.errors import SpecError
from runner.lazy_re import on_first_use
from runner.url_secrets import without_secrets

_no_such_command_re = on_first_use(r"No such command (?P<name>'.*'|\".*\")\.")


# click's words for a value it could not convert: "'abc' is not a valid integer.", "0 is not in the range
# x>=1.", "'xml' is not one of 'table', 'json'."
_bad_value_re = on_first_use(r"(?P<value>'.*'|\".*\"|\S+) is not (?P<rest>.*?)\.?$", re.DOTALL)


_extra_arguments_re = on_first_use(r"Got unexpected extra argument(?:s|\(s\))? \((?P<words>.*)\)$", re.DOTALL)


def install(command: Any, *, root: bool = True) -> None:
    """Make every usage error under the click ``command`` runner's one message: ``root``, the command the
    command line starts at (which converts them); else a group below it (whose commands give context)."""
    if root:
        command.make_context = _converting(command.make_context)
        command.invoke = _converting(command.invoke)
    pending = [command]
    while pending:
        command = pending.pop()
        command.parse_args = _giving_context(command.parse_args)
        pending.extend(getattr(command, "commands", {}).values())


def _converting(method: Callable[..., Any]) -> Callable[..., Any]:
    def converted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except click_errors.UsageError as err:
            if isinstance(err, click_errors.NoArgsIsHelpError):  # `runner`, `runner job`: the help, on
                click.echo(err.format_message(), color=err.ctx.color)  # stdout (click: stderr), exit 2
                raise click_errors.Exit(2) from None
            raise usage_error(err) from err
    return converted


_ParseArgs = Callable[[Any, list[str]], list[str]]


def _giving_context(parse_args: _ParseArgs) -> _ParseArgs:
    def parsed(ctx: Any, args: list[str]) -> list[str]:
        try:
            return parse_args(ctx, args)
        except click_errors.UsageError as err:
            if err.ctx is None:  # "Option '--name' requires an argument.": which command's
                err.ctx = ctx
            raise
    return parsed


def usage_error(err: Any) -> SpecError:
    """The ``SpecError`` that says what click's usage error ``err`` says, in runner's words; a value it
    echoes (a stray argument, a bad value) never shows a secret: a URL's query or password, a key=value
    secret as a connection string or SAS holds it."""
    said = _usage_error(err)
    said.message = without_secrets(said.message)
    said.hint = without_secrets(said.hint) if said.hint else said.hint
    return said


def _usage_error(err: Any) -> SpecError:
    ctx = err.ctx
    path = ctx.command_path if ctx is not None else "runner"
    group = ctx is not None and isinstance(ctx.command, click.Group)
    see = f"{path} --help lists its {'commands' if group else 'options'}"
    if isinstance(err, click_errors.NoSuchOption):
        return _no_such_option(err, ctx, path, see)
    param = getattr(err, "param", None)
    if isinstance(err, click_errors.MissingParameter) and param is not None:
        flag = _flag(param)
        kind = "argument" if param.param_type_name == "argument" else "option"
        return SpecError(f"missing {kind} '{flag}'", field=path, hint=f"give {flag} <value>; {see}")
    if isinstance(err, click_errors.BadParameter) and param is not None:
        return _bad_value(err, param, see)
    if isinstance(err, click_errors.BadOptionUsage) and "requires an argument" in err.message:
        return SpecError(f"option '{err.option_name}' needs a value", field=path,
                         hint=f"give {err.option_name} <value>; {see}")
    message = err.message
    named = _no_such_command_re().match(message)
    if named and group:
        name = ast.literal_eval(named["name"])
        return SpecError(f"no such command {name!r}{_did_you_mean(name, _visible_commands(ctx))}",
                         field=path, hint=see)
    extra = _extra_arguments_re().match(message)
    if extra:
        words = extra["words"]
        plural = "s" if " " in words else ""
        return SpecError(f"unexpected extra argument{plural} '{words}'", field=path,
                         hint=f"an option's value follows its flag (--name value); {see}")
    return SpecError(_sentence(message), field=path, hint=see)


def _no_such_option(err: Any, ctx: Any, path: str, see: str) -> SpecError:
    option = err.option_name
    message = f"no such option '{option}'"
    root = ctx.find_root() if ctx is not None else None
    if root is not None and root is not ctx:
        for param in root.command.params:
            if option in (*param.opts, *param.secondary_opts):
                value = "" if getattr(param, "is_flag", False) else f" <{param.name}>"
                rest = path[len(root.command_path):].strip()
                return SpecError(message, field=path,
                                 hint=f"{option} is an option of runner itself, given before the command: "
                                      f"{root.command_path} {option}{value} {rest} ...; {see}")
    options = [name for param in (ctx.command.params if ctx is not None else [])
               if not getattr(param, "hidden", False)
               for name in (*param.opts, *param.secondary_opts) if name.startswith("--")]
    close = _did_you_mean(option, options) if option.startswith("--") else ""
    return SpecError(message + close, field=path, hint=see)


def _bad_value(err: Any, param: Any, see: str) -> SpecError:
    flag = _flag(param)
    said = _bad_value_re().match(err.message)
    value = _unquoted(said["value"]) if said else None
    choices = _choices(param)
    if choices and value is not None:
        close = _closest(value, choices)
        fix = f"{flag} {close}" if close else f"give one of them to {flag}"
        return SpecError(f"{value!r} is not one of {', '.join(repr(c) for c in choices)}"
                         f"{_did_you_mean(value, choices)}", field=flag, hint=f"{fix}; {see}")
    if said is None:
        return SpecError(_sentence(err.message), field=flag, hint=see)
    rest = said["rest"]
    if hasattr(param.type, "min_open"):  # IntRange, FloatRange: "a valid integer range", "in the range"
        rest = rest.removesuffix(" range")
    reason = _range_words(param.type) if rest.startswith("in the range") else f"not {rest}"
    return SpecError(f"invalid value {value!r}: {reason}", field=flag, hint=see)


def _unquoted(word: str) -> str:
    """The value click's message shows (quoted as Python would: ``'abc'``; a number bare)."""
    if word[:1] in ("'", '"'):
        with contextlib.suppress(ValueError, SyntaxError):
            return str(ast.literal_eval(word))
    return word


def _range_words(kind: Any) -> str:
    """A number range (click's ``IntRange``, ``FloatRange``) in words: ``should be greater than or equal to
    1``."""
    bounds = [f"{'greater than' if kind.min_open else 'greater than or equal to'} {kind.min}"
              if getattr(kind, "min", None) is not None else "",
              f"{'less than' if kind.max_open else 'less than or equal to'} {kind.max}"
              if getattr(kind, "max", None) is not None else ""]
    return "should be " + " and ".join(bound for bound in bounds if bound)


def _choices(param: Any) -> list[str]:
    """The values a choice parameter takes (click's ``Choice``), else none."""
    choices = getattr(getattr(param, "type", None), "choices", None)
    return [str(getattr(choice, "value", choice)) for choice in choices or ()]


def _flag(param: Any) -> str:
    """How the command line names ``param``: its first long option, else its first, else its name."""
    names = [*param.opts, *getattr(param, "secondary_opts", [])]
    if param.param_type_name == "argument" or not names:
        return str(param.name).upper()
    return next((name for name in names if name.startswith("--")), names[0])


def _visible_commands(ctx: Any) -> list[str]:
    """The names a group lists (the root's, without importing its groups: ``runner.cli.main.LazyGroups``)."""
    return [name for name in ctx.command.list_commands(ctx)
            if not getattr(ctx.command.commands.get(name), "hidden", False)]


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the candidate ``word`` most likely meant, else nothing."""
    close = _closest(word, candidates)
    return f" (did you mean {close!r}?)" if close else ""


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely meant (``runner.spec.validation.closest``, the one rule)."""
    from runner.spec.validation import closest  # only an error needs it (and pydantic behind it)

    return closest(word, candidates)


def _sentence(text: str) -> str:
    """click's or pydantic's sentence inside runner's message: no final full stop, and a lower-case first
    letter unless the first word is an acronym ("Input should be" -> "input should be"; "JSON" stays)."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
