"""``runner.url_secrets.without_secrets`` (what messages show) masks the bearer tokens the secret rule
(``runner.spec.env_secret_rule``: what records keep out) tells by their form: a JWT and a GitHub token,
shown by their prefix; a word that only starts like one stays."""

from __future__ import annotations

import pytest

from runner.spec.env_secret_rule import value_is_secret
from runner.url_secrets import without_secrets

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.parametrize(("given", "shown"), [
    (f"Authorization: Bearer {JWT}", "Authorization: Bearer eyJ***"),
    (f"token {GH} refused", "token ghp_*** refused"),
    ("github_pat_11ABCDEFG0" + "x_y" * 20, "github_pat_***"),
    ("gho_" + "Z" * 36, "gho_***"),
])
def test_a_token_is_shown_by_its_prefix_and_is_a_secret_value(given: str, shown: str) -> None:
    assert without_secrets(given) == shown
    assert without_secrets(shown) == shown  # masking twice is masking once
    assert value_is_secret(given)


@pytest.mark.parametrize("kept", ["ghp_short", "eyJ", "a.b.c", "eyJhbGciOi", "xghp_" + "a" * 36])
def test_what_only_starts_like_a_token_stays(kept: str) -> None:
    assert without_secrets(kept) == kept
