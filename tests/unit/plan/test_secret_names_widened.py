"""The secret rule (``runner.plan.env_secrets.is_secret``) knows the common forms: a name with ``TOKEN``
glued to another word (``HFTOKEN``), ``KEY`` of an API key followed by a number or a stage
(``OPENAI_API_KEY_2``, ``API_KEY_PROD``), a personal access token (``GH_PAT``); a value with a ``token=``
query parameter, Google's ``X-Goog-Signature=``, a JWT, a GitHub token, a URL whose password holds a space.
Common names that hold no secret stay as they are."""

from __future__ import annotations

import pytest

from runner.plan.env_secrets import is_secret, masked_docker_args, name_is_secret, value_is_secret

GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


@pytest.mark.parametrize("name", [
    "HFTOKEN", "GITHUBTOKEN", "AUTHTOKEN", "ACCESSTOKEN", "hfToken", "API_KEY_1", "OPENAI_API_KEY_2",
    "API_KEY_PROD", "OPENAI_API_KEY_DEV", "GH_PAT", "GITHUB_PAT", "AZURE_DEVOPS_PAT", "SSH_KEY_2",
    "WANDB_APIKEY", "OPENAIAPIKEY",
])
def test_a_name_that_says_secret(name: str) -> None:
    assert name_is_secret(name) and is_secret(name, "x")


@pytest.mark.parametrize("name", [
    "TOKENIZERS_PARALLELISM", "KEY_PATH", "MONKEY", "TURKEY", "PATH", "HF_HOME", "MAX_TOKENS", "NUM_TOKENS",
    "TOKENIZER_NAME", "KEYBOARD", "KEYBOARD_LAYOUT", "PAT", "PWD", "AWS_ACCESS_KEY_ID", "KEY_VAULT_NAME",
    "API_KEY_PATH", "API_KEY_FILE", "SSH_KEY_PATH", "TOKENS", "MONKEY_2", "DATA_PATH", "SPATIAL_DIM",
    "MAX_NEW_TOKENS", "TOKENIZER", "HF_HUB_OFFLINE", "PROD", "KEY_ID_2", "NUM_KEYS",
])
def test_a_name_that_does_not(name: str) -> None:
    assert not name_is_secret(name)


@pytest.mark.parametrize("value", [
    "https://api.example.com/v1/data?token=abc123def", "https://h/x?a=1&token=abc123def",
    "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4&X-Goog-Signature=0a1b2c3d",
    "https://h/x?access_token=abc123def",
    JWT, f"Bearer {JWT}", GH, "gho_" + "Z" * 36, "ghs_" + "9" * 36, "github_pat_11ABCDEFG0" + "x" * 60,
    "https://user:p ss@host/x",
])
def test_a_value_that_looks_like_one(value: str) -> None:
    assert value_is_secret(value) and is_secret("NEUTRAL", value), value


@pytest.mark.parametrize("value", [
    "https://example.com/x?tokenizer=bert", "https://h/x?max_tokens=12", "ghp_short", "eyJ", "a.b.c",
    "eyJhbGciOi", "fast", "/home/u/key.pem", "https://user@host/x", "github_pat_", "token", "my token here",
    "tokens=5", "https://h/x?page=2&sort=asc", "key=value", "token=abc", "https://h/x?monkey=1&tokens=2",
])
def test_a_value_that_does_not(value: str) -> None:
    assert not value_is_secret(value), value


def test_docker_args_mask_them_too() -> None:
    masked = " ".join(masked_docker_args([f"-e HFTOKEN=hf_abc -e NEUTRAL={GH} -e MONKEY=banana"]))
    assert "hf_abc" not in masked and GH not in masked and "MONKEY=banana" in masked, masked
