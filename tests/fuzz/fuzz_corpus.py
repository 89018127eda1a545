"""A seeded corpus of hostile job and model files (issue 20): valid files mutated with aliases, depth,
wrong types, unicode, huge values, path traversal and shell injection, plus targeted cases that must
be refused. The same seed gives the same corpus, so a failing case is reproducible by its name.

    cases = job_cases(), model_cases()   # Case(name, kind, content: bytes, must_fail: str | None)
    prepare_root(folder)                 # the files the cases' relative paths name (data/, src/, model/)
"""

from __future__ import annotations

import copy
import io
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

SEED = 20
JOB_CASES = 400
MODEL_CASES = 90


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "job" or "model"
    content: bytes
    must_fail: str | None = None  # why it must be refused (None: either answer is fine)


def prepare_root(root: Path) -> None:
    """What the cases' relative paths name: a data folder and file, a code folder, a model folder."""
    (root / "data" / "sub").mkdir(parents=True, exist_ok=True)
    (root / "data" / "a.txt").write_text("alpha\n")
    (root / "data" / "sub" / "b.txt").write_text("beta\n")
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "run.sh").write_text("echo run\n")
    (root / "model").mkdir(exist_ok=True)
    (root / "model" / "MLmodel").write_text("flavors: {}\n")
    (root / "model" / "weights.bin").write_bytes(b"\0" * 64)


# -- hostile values -------------------------------------------------------------------------------------
HUGE_NUMBERS: list[Any] = [10**30, -10**30, 2**63, 2**63 - 1, -1, 0, float("inf"), float("-inf"),
                           float("nan"), 1e308, 3.5]
UNICODE = ["\u202egnp.exe", "caf\u00e9", "\U0001f600", "e\u0301", "\u200b", "\ufeffbom", "\u0007bell",
           "\x1b[31mred", "\u0645\u0631\u062d\u0628\u0627", "\uffff", "line\nbreak", "tab\there", ""]
TRAVERSAL = ["../../../../etc/passwd", "/etc/shadow", "~root/.ssh/id_rsa", "file:///etc/passwd",
             "azureml://datastores/workspaceblobstore/paths/../../../etc",
             "azureml://datastores/workspaceblobstore/paths/a/../../x", "azureml://datastores/../paths/x",
             "azureml://jobs/../outputs/o/paths/x", "azureml:../../x:1", "data/../../../../../tmp",
             "\\\\server\\share", "data/./sub/../a.txt", "data//a.txt", "runs:/../../x"]
PWNED = "/tmp/runner-fuzz-pwned"  # what an injected command or tag would create, were it run
INJECTION = [f"$(touch {PWNED})", "; rm -rf ~", "`id`", "a && b", "${{inputs.missing}}",
             "${{outputs.artifacts}}", "${{inputs.data}} ${{", "}}{{", "%(x)s", "{0}", "\\", "--help",
             "-rf", "' OR 1=1 --", "\"; DROP TABLE models; --"]
LONG = ["a" * 255, "a" * 256, "b" * 10_000, "c" * 200_000, "x" * 1024 + "/" + "y" * 1024]
SHAPES: list[Any] = [None, True, False, [], {}, [1, [2, [3]]], {"a": {"b": {"c": None}}}, ["x"] * 50]

STRINGS = UNICODE + TRAVERSAL + INJECTION + LONG
VALUES: list[Any] = STRINGS + HUGE_NUMBERS + SHAPES


def base_job(rng: random.Random, index: int) -> dict[str, Any]:
    """A job file that is valid here (its paths exist under the root)."""
    job: dict[str, Any] = {"command": "echo ok", "environment": {"image": "runner/busybox:latest"}}
    if rng.random() < 0.7:
        job["inputs"] = {"data": {"type": "uri_folder", "path": "data",
                                  "mode": rng.choice(["download", "ro_mount", "direct"])},
                         "one": {"type": "uri_file", "path": "data/a.txt"}, "lr": 0.1, "epochs": 3,
                         "flag": True, "label": "text"}
        job["command"] = "echo ${{inputs.data}} ${{inputs.lr}}"
    if rng.random() < 0.7:
        job["outputs"] = {"out": {"type": "uri_folder", "mode": rng.choice(["upload", "rw_mount", "direct"])},
                          "model": {"type": "custom_model", "name": f"fuzzed-{index}", "version": "1"}}
        job["command"] += " ${{outputs.out}}"
    for key, value in [("code", "src"), ("name", f"fuzz_{index}"), ("display_name", "fuzz"),
                       ("experiment_name", "fuzzing"), ("description", "a fuzzed job"),
                       ("tags", {"team": "fuzz"}), ("environment_variables", {"MODE": "fuzz"}),
                       ("limits", {"timeout": 60}), ("compute", "local-process"),
                       ("resources", {"docker_args": "--memory 64m --cpus 1", "shm_size": "64m"})]:
        if rng.random() < 0.4:
            job[key] = value
    return job


def base_model(rng: random.Random, index: int) -> dict[str, Any]:
    path = rng.choice(["model", "model/weights.bin"])
    model: dict[str, Any] = {"name": f"fuzz-model-{index}", "path": path}
    model["type"] = "mlflow_model" if model["path"] == "model" and rng.random() < 0.5 else "custom_model"
    for key, value in [("version", str(index + 1)), ("description", "fuzzed"), ("tags", {"a": "b"}),
                       ("properties", {"p": "q"}), ("stage", "Development")]:
        if rng.random() < 0.5:
            model[key] = value
    return model


# -- mutations of the data --------------------------------------------------------------------------------
def _containers(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(data, dict | list):
        yield path, data
        items = data.items() if isinstance(data, dict) else enumerate(data)
        for key, value in items:
            yield from _containers(value, (*path, key))


def set_random_value(rng: random.Random, data: dict[str, Any]) -> str:
    """Some value (at any depth) replaced by a hostile one."""
    _path, container = rng.choice(list(_containers(data)))
    value = rng.choice(VALUES)
    if isinstance(container, dict) and container:
        key = rng.choice(list(container))
        container[key] = copy.deepcopy(value)
        return f"set {key!r}"
    if isinstance(container, list) and container:
        container[rng.randrange(len(container))] = copy.deepcopy(value)
        return "set item"
    data["command"] = value
    return "set command"


def add_random_key(rng: random.Random, data: dict[str, Any]) -> str:
    """A hostile key added to some mapping (unknown field, odd input/output name, non-string key)."""
    mappings = [c for _p, c in _containers(data) if isinstance(c, dict)]
    target = rng.choice(mappings)
    key = rng.choice([*STRINGS[:20], 7, 3.5, True, None, "<<", "$schema", "inputs", "type"])
    target[key] = copy.deepcopy(rng.choice(VALUES))
    return f"key {key!r}"


def rename_io(rng: random.Random, data: dict[str, Any]) -> str:
    group = rng.choice(["inputs", "outputs"])
    entries = data.setdefault(group, {})
    if not isinstance(entries, dict):
        return "rename (none)"
    name = rng.choice(["..", "a/b", "a.b", "a-b", "x" * 300, "\u00e9t\u00e9", "1st", "_", "artifacts",
                       "data", "out", "$(id)", " ", "A" * 255])
    entries[name] = {"type": "uri_folder", "path": "data"} if group == "inputs" else {"type": "uri_folder"}
    return f"io name {name[:20]!r}"


DOCKER_ARGS = ["--memory 1e400g", "--memory -5", "--cpus 1e999", "--cpus -0", "--ulimit nofile=" + "9" * 30,
               "--ulimit =1", "--gpus " + "9" * 30, "--gpus count=-7", "--tmpfs /x:size=lots", "--env A",
               "--user $(id)", "--shm-size 0", "--pids-limit " + "9" * 30, "--cpu-shares -1", "--init=1",
               "--memory", "-m 2g -m 3g", "--ipc=host", "--cap-add ALL", "--", "'unclosed", "--rm --rm"]
FIELD_VALUES: dict[tuple[str, ...], list[Any]] = {
    ("inputs", "data", "path"): TRAVERSAL + UNICODE + LONG + ["data/a.txt", "data/sub", "/", "."],
    ("outputs", "out", "path"): TRAVERSAL + UNICODE + LONG + ["/tmp", "/", ".", "data",
                                                              "azureml://datastores/workspaceblobstore/paths/x"],
    ("inputs", "data", "mode"): ["upload", "rw_mount", "mount", "DOWNLOAD", "", None, 3],
    ("inputs", "data", "type"): ["uri_file", "mltable", "mlflow_model", "integer", "string", "nope", None],
    ("outputs", "out", "mode"): ["download", "ro_mount", "Upload", "", None],
    ("outputs", "out", "type"): ["uri_file", "mltable", "triton_model", "string", "nope"],
    ("outputs", "model", "version"): HUGE_NUMBERS + ["01", "1.0", "v1", "-1", "latest", "a" * 101],
    ("resources", "docker_args"): DOCKER_ARGS,
    ("resources", "gpu_count"): HUGE_NUMBERS + ["all", "some"],
    ("resources", "instance_count"): HUGE_NUMBERS,
    ("resources", "shm_size"): ["1e400g", "-1", "0", "lots", "9" * 40 + "g"],
    ("limits", "timeout"): HUGE_NUMBERS + ["1h", "60"],
    ("environment", "image"): ["", " ", "UPPER:case", "a" * 300, "img@sha256:" + "0" * 64, "$(id)", None],
    ("environment_variables", "MODE"): [*UNICODE, 10**30, None, {"a": 1}],
    ("code",): TRAVERSAL + ["/", ".", "src/run.sh", "azureml:code:1", "https://example.invalid/x"],
    ("name",): ["a" * 250, "job.1", "-lead", "_x", "UPPER", "é", "a b"],
}


def set_field(rng: random.Random, data: dict[str, Any]) -> str:
    """A field that names something (a path, a mode, a size, a version...) set to a hostile value."""
    path = rng.choice(list(FIELD_VALUES))
    target: Any = data
    for part in path[:-1]:
        if not isinstance(target, dict):
            return "field (none)"
        target = target.setdefault(part, {})
        if part in ("data", "out", "model") and not target:
            target.update({"type": "custom_model", "name": "m"} if part == "model" else
                          {"type": "uri_folder"})
    if not isinstance(target, dict):
        return "field (none)"
    target[path[-1]] = copy.deepcopy(rng.choice(FIELD_VALUES[path]))
    return "field " + ".".join(path)


MUTATIONS: list[Callable[[random.Random, dict[str, Any]], str]] = [set_random_value, add_random_key,
                                                                   rename_io, set_field, set_field]


def dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 1 << 30
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


# -- mutations of the text --------------------------------------------------------------------------------
def alias_bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefghijklmn", "bcdefghijklmno"[:levels - 1], strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "command: echo\nenvironment: img\ntags:\n  " + "\n  ".join(lines) + "\n"


TEXT_MUTATIONS: list[tuple[str, Callable[[str, random.Random], str | bytes]]] = [
    ("bom", lambda t, r: "\ufeff" + t),
    ("crlf", lambda t, r: t.replace("\n", "\r\n")),
    ("tab", lambda t, r: t.replace("\n  ", "\n\t", 1)),
    ("second-document", lambda t, r: t + "---\nsecond: document\n"),
    ("duplicate-key", lambda t, r: t + t.splitlines()[0] + "\n"),
    ("truncated", lambda t, r: t[: r.randrange(1, max(2, len(t)))]),
    ("python-tag", lambda t, r: t + f"evil: !!python/object/apply:os.system ['touch {PWNED}']\n"),
    ("binary-tag", lambda t, r: t + "blob: !!binary aGVsbG8=\n"),
    ("set-tag", lambda t, r: t + "things: !!set {a, b}\n"),
    ("timestamp", lambda t, r: t.replace("echo", "2001-12-14t21:59:43.10-05:00 echo", 1)),
    ("invalid-utf8", lambda t, r: t.encode() + b"\xff\xfe\xc3\x28\n"),
    ("anchor-and-alias", lambda t, r: "x: &x {type: uri_folder, path: data}\n" + t.replace(
        "inputs:\n", "inputs:\n  aliased: *x\n", 1)),
    ("merge-key", lambda t, r: "base: &b {MODE: merged}\n" + t + "environment_variables:\n  <<: *b\n"),
    ("flow-style", lambda t, r: "{" + ", ".join(f"{line}" for line in t.splitlines() if ": " in line
                                                and not line.startswith(" ")) + "}\n"),
    ("list-root", lambda t, r: "- " + t.replace("\n", "\n  ")),
    ("scalar-root", lambda t, r: "just a string\n"),
    ("empty", lambda t, r: ""),
    ("comments-only", lambda t, r: "# nothing\n# here\n"),
    ("huge-file", lambda t, r: t + "# " + "z" * (1024 * 1024) + "\n"),
    ("deep-flow", lambda t, r: t + "tags: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("deep-block", lambda t, r: t + "tags:\n" + "- " * 5000 + "x\n"),
    ("alias-bomb", lambda t, r: alias_bomb()),
    ("recursive-alias", lambda t, r: t + "tags: &t\n  a: *t\n"),
    ("undefined-alias", lambda t, r: t + "tags: *nowhere\n"),
    ("many-values", lambda t, r: t + "tags: [" + ",".join(["1"] * 12_000) + "]\n"),
]
# text mutations whose result must be refused, and why
REFUSED_TEXT = {"invalid-utf8": "not UTF-8", "huge-file": "larger than a spec",
                "deep-flow": "nesting", "deep-block": "nesting", "alias-bomb": "alias bomb",
                "recursive-alias": "recursive alias", "undefined-alias": "undefined alias",
                "many-values": "too many values", "scalar-root": "not a mapping", "empty": "empty",
                "comments-only": "empty", "list-root": "not a mapping", "second-document": "two documents"}


# -- cases that must be refused, field by field -----------------------------------------------------------
def must_fail_jobs() -> list[tuple[str, dict[str, Any], str]]:
    """(name, job, why): each a valid job but for one thing that must be refused."""
    def job(**extra: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"command": "echo ok", "environment": {"image": "runner/busybox:latest"}}
        base.update(extra)
        return base

    escape = "azureml://datastores/workspaceblobstore/paths/../../../etc"
    return [
        ("nul-in-name", job(name="a\0b"), "NUL"),
        ("nul-in-command", job(command="echo \0"), "NUL"),
        ("nul-in-env", job(environment_variables={"A": "x\0y"}), "NUL"),
        ("nul-in-input-name", job(inputs={"a\0": 1}), "NUL"),
        ("nul-in-path", job(inputs={"d": {"type": "uri_folder", "path": "data\0/x"}}), "NUL"),
        ("slash-in-name", job(name="../../x"), "job name"),
        ("long-name", job(name="j" * 251), "job name"),
        ("input-escapes-datastore", job(inputs={"d": {"type": "uri_folder", "path": escape}}), "escape"),
        ("output-escapes-datastore", job(outputs={"o": {"type": "uri_folder", "path": escape}}), "escape"),
        ("dotdot-mid-path", job(inputs={"d": {"type": "uri_folder",
                                              "path": "azureml://datastores/workspaceblobstore/paths/a/../../x"}}),
         "escape"),
        ("unknown-datastore", job(inputs={"d": {"type": "uri_folder",
                                                "path": "azureml://datastores/nope/paths/x"}}), "unknown"),
        ("huge-output-version", job(outputs={"m": {"type": "custom_model", "name": "m", "version": 10**30}}),
         "version"),
        ("bad-output-model-name", job(outputs={"m": {"type": "custom_model", "name": "../m"}}), "name"),
        ("io-name-dotdot", job(inputs={"..": 1}), "io name"),
        ("io-name-too-long", job(outputs={"o" * 256: {}}), "io name"),
        ("reserved-output", job(outputs={"artifacts": {}}), "reserved"),
        ("inputs-equal-ignoring-case", job(inputs={"x": 1, "X": 2}), "collision"),
        ("outputs-equal-but-for-dash", job(outputs={"a-b": {}, "a_b": {}}), "collision"),
        ("memory-lots", job(resources={"docker_args": "--memory lots"}), "docker_args"),
        ("privileged", job(resources={"docker_args": "--privileged"}), "docker_args"),
        ("missing-build", job(environment={"build": {"path": "nowhere"}}), "build"),
        ("dockerfile-outside", job(environment={"build": {"path": "src", "dockerfile_path": "../../etc/x"}}),
         "build"),
        ("missing-code", job(code="no-such-folder"), "code"),
        ("unknown-field", job(commnd="typo"), "unknown field"),
        ("wrong-type", job(command=["echo", "ok"]), "type"),
        ("undefined-input", job(command="echo ${{inputs.nope}}"), "expression"),
        ("mode-not-allowed",
         job(inputs={"d": {"type": "uri_file", "path": "data/a.txt", "mode": "rw_mount"}}), "mode"),
    ]


def must_fail_models() -> list[tuple[str, dict[str, Any], str]]:
    escape = "azureml://datastores/workspaceblobstore/paths/../../../etc"
    return [
        ("nul-in-name", {"name": "m\0", "path": "model"}, "NUL"),
        ("slash-in-name", {"name": "a/b", "path": "model"}, "name"),
        ("dotdot-name", {"name": "..", "path": "model"}, "name"),
        ("huge-version", {"name": "m", "version": 10**30, "path": "model"}, "version"),
        ("float-version", {"name": "m", "version": 1e400, "path": "model"}, "version"),
        ("escaping-path", {"name": "m", "path": escape}, "escape"),
        ("missing-path", {"name": "m", "path": "no-such-file"}, "missing"),
        ("mlflow-without-mlmodel", {"name": "m", "path": "data", "type": "mlflow_model"}, "MLmodel"),
        ("unknown-type", {"name": "m", "path": "model", "type": "exe"}, "type"),
        ("unknown-field", {"name": "m", "path": "model", "flavour": 1}, "unknown field"),
    ]


def _short(label: str) -> str:
    """A mutation's label as part of a test id: printable, short."""
    return re.sub(r"[^A-Za-z0-9_.=]+", "_", label.replace(" ", "=", 1))[:32]


def job_cases() -> list[Case]:
    return _cases("job", base_job, must_fail_jobs(), JOB_CASES)


def model_cases() -> list[Case]:
    return _cases("model", base_model, must_fail_models(), MODEL_CASES)


def _cases(kind: str, base: Callable[[random.Random, int], dict[str, Any]],
           targeted: list[tuple[str, dict[str, Any], str]], count: int) -> list[Case]:
    rng = random.Random(f"{SEED}-{kind}")
    cases = [Case(f"{kind}-must-fail-{name}", kind, dump(data).encode(), why) for name, data, why in targeted]
    for index in range(count):
        data = base(rng, index)
        if rng.random() < 0.25:  # text-level: structure, encoding, YAML features
            label, mutate = rng.choice(TEXT_MUTATIONS)
            text = mutate(dump(data), rng)
            content = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
            cases.append(Case(f"{kind}-{index:03d}-{label}", kind, content, REFUSED_TEXT.get(label)))
            continue
        labels = [rng.choice(MUTATIONS)(rng, data) for _ in range(rng.randint(0, 3))]
        label = "+".join(_short(label) for label in labels) or "valid"
        cases.append(Case(f"{kind}-{index:03d}-{label}", kind, dump(data).encode("utf-8", "surrogatepass")))
    return cases
