"""``resources.docker_args`` are read one way (``runner.spec.docker_tokens``): the docker backend
(``parse_docker_args``) and the masking of secrets (``runner.spec.docker_env``: what the record, `job
validate`, `job show` and a pipeline's rows show) agree on which token is an option's value, by the one
table of the options that take one. An option whose value would be another option (``--user
--env=API_TOKEN=...``: docker would make the whole pair the user's name and echo it in its error) is
refused in one error naming the options, never a value; the masking reads such args so that every pair
docker could set is masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.backends.docker_args import NEVER, OPTIONS, UNSAFE_OPTIONS, parse_docker_args
from runner.errors import SpecError
from runner.plan.env_secrets import MASK, docker_secrets, masked_docker_args, masked_spec
from runner.spec.docker_env import env_pairs, with_env_values

# an option given another option as its value: docker takes the next token whatever it is
SWALLOWED = [
    ("--user --env=API_TOKEN=s3cr3tA", "--user", "--env"),
    ("--user -e --env=API_TOKEN=s3cr3tB", "--user", "-e"),
    ("--cap-drop -e --env=API_TOKEN=s3cr3tB", "--cap-drop", "-e"),
    ("-u --env API_TOKEN=s3cr3tC", "-u", "--env"),
    ("--memory -e API_TOKEN=s3cr3tD", "--memory", "-e"),
    ("--user=--env=API_TOKEN=s3cr3tE", "--user", "--env"),
]


def _cli(ws: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                            text=True, timeout=120, check=False, env=env, cwd=ws.parent)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(("args", "option", "taken"), SWALLOWED)
def test_an_option_as_another_options_value_is_refused_naming_no_value(args: str, option: str,
                                                                       taken: str) -> None:
    for allow_unsafe in (False, True):
        with pytest.raises(SpecError) as info:
            parse_docker_args([args], allow_unsafe=allow_unsafe)
        shown = info.value.render()
        assert info.value.field == "resources.docker_args"
        assert f"'{option}'" in info.value.message and f"'{taken}'" in info.value.message, shown
        assert "s3cr3t" not in shown and "API_TOKEN" not in shown, shown


@pytest.mark.parametrize(("args", "option", "taken"), SWALLOWED[:-1])
def test_the_masking_masks_every_pair_docker_could_set(args: str, option: str, taken: str) -> None:
    masked = " ".join(masked_docker_args([args]))
    assert "s3cr3t" not in masked and f"API_TOKEN={MASK}" in masked, masked
    assert option in masked and taken in masked  # every other token as written
    assert list(docker_secrets([args])) == ["API_TOKEN"]
    spec = masked_spec({"jobs": {"s": {"resources": {"docker_args": args}}}})  # a pipeline's, as written
    assert "s3cr3t" not in str(spec)


def test_an_unsafe_option_swallowing_one_is_refused_with_the_opt_in_too() -> None:
    with pytest.raises(SpecError) as info:
        parse_docker_args(["--cap-add -e --env=API_TOKEN=s3cr3tF"], allow_unsafe=True)
    assert "'--cap-add'" in info.value.message and "s3cr3t" not in info.value.render()
    assert "s3cr3t" not in " ".join(masked_docker_args(["--cap-add -e --env=API_TOKEN=s3cr3tF"]))


VALID = [
    ["--user 1000", "-e A=1"],
    ["--cap-drop ALL --env=B=2 -m 2g -e C=3"],
    ["--init -e D=4 --rm --env E=5"],
    ["-e", "F=6", "--shm-size", "1g"],
    ["-uroot -eG=7 -m2g"],  # docker's short options, their values glued on
    ["--memory-swap -1 -e H=8 --pids-limit -1 --env=I=9"],  # a number below zero is a value
    ["--ulimit memlock=-1:-1 --cpus=1.5 -e=J=10 --user=1000:1000"],
    ["--cap-add SYS_PTRACE -e K=11 --ipc host"],
]


@pytest.mark.parametrize("args", VALID)
def test_the_backend_and_the_masking_read_the_same_variables(args: list[str]) -> None:
    kw = parse_docker_args(args, allow_unsafe=True)
    assert kw.get("environment", {}) == dict(env_pairs(args))
    assert env_pairs(args)  # each sets at least one


def test_a_glued_short_option_is_a_variable_the_masking_and_the_run_agree_on() -> None:
    args = ["-eAPI_TOKEN=s3cr3tG -uroot"]
    assert parse_docker_args(args) == {"environment": {"API_TOKEN": "s3cr3tG"}, "user": "root"}
    masked = masked_docker_args(args)
    assert masked == [f"-eAPI_TOKEN={MASK} -uroot"]
    back = with_env_values(masked, lambda name, value: "s3cr3tG" if value == MASK else None)
    assert parse_docker_args(back) == parse_docker_args(args)


def test_one_table_says_which_options_take_a_value() -> None:
    from runner.spec.docker_tokens import FLAG_OPTIONS, VALUE_OPTIONS

    backend = set(OPTIONS) | set(UNSAFE_OPTIONS) | set(NEVER)
    assert backend == set(VALUE_OPTIONS) | set(FLAG_OPTIONS)
    assert not set(VALUE_OPTIONS) & set(FLAG_OPTIONS)
    for option in ("--init", "--rm", "--privileged"):
        assert option in FLAG_OPTIONS
    for option in ("--user", "-u", "--cap-drop", "--memory", "-m", "--env", "-e", "--network", "-v"):
        assert option in VALUE_OPTIONS


@pytest.mark.parametrize("args", ["--user -e --env=API_TOKEN=s3cr3tB",
                                  "--cap-drop -e --env=API_TOKEN=s3cr3tB", "--user --env=API_TOKEN=s3cr3tA"])
def test_job_validate_refuses_it_in_one_error_without_the_value(tmp_path: Path, args: str) -> None:
    (tmp_path / "t.yml").write_text(f"command: env\nenvironment: runner/busybox:latest\nresources:\n"
                                    f"  docker_args: {args}\n")
    code, out = _cli(tmp_path / "ws", "job", "validate", "--file", str(tmp_path / "t.yml"))
    assert code == 2, out
    assert out.count("error:") == 1 and "t.yml:4:" in out and "Traceback" not in out, out
    assert "s3cr3t" not in out, out
    (tmp_path / "p.yml").write_text(f"command: env\nenvironment: runner/busybox:latest\n"
                                    f"compute: local-process\nresources:\n  docker_args: {args}\n")
    code, out = _cli(tmp_path / "ws", "job", "validate", "--file", str(tmp_path / "p.yml"))
    # docker_args do not apply to a host process: accepted, and masked
    assert code == 0 and "s3cr3t" not in out and f"API_TOKEN={MASK}" in out, out
