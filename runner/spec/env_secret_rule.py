"""Which environment variables hold secrets: the one rule ``runner.plan.env_secrets`` keeps a job's
``environment_variables`` (and the variables its ``resources.docker_args`` set) out of what is recorded
and shown by. Pure.

    is_secret("WANDB_API_KEY", "abc")                       # True: the name says so
    is_secret("STORAGE", "AccountName=a;AccountKey=...")    # True: the value looks like one
    is_secret("TOKENIZERS_PARALLELISM", "false")            # False

A variable is a secret when its value is not empty and

- its name says so (``name_is_secret``), read as words (split at ``_``, ``-``, ``.`` and camelCase; a
  number or a stage last, as in ``API_KEY_2`` or ``API_KEY_PROD``, left out for the last-word rules): a
  word holding ``SECRET`` or ``PASSWORD``; a word ending in ``TOKEN`` (``HF_TOKEN``, ``HFTOKEN``,
  ``AUTHTOKEN``, not ``TOKENS`` or ``TOKENIZER``) or ``APIKEY``; the word ``SAS``, ``PASSWD``,
  ``PASSPHRASE``, ``CREDENTIAL(S)``, ``CONNSTR``; ``KEY`` or ``PW`` as the last word, alone too
  (``WANDB_API_KEY``, ``OPENAI_API_KEY_2``, ``PW``, ``DB_PW``; not ``AWS_ACCESS_KEY_ID``, ``KEY_PATH``,
  ``PW_FILE``, ``MONKEY``); ``PWD``, ``PASS`` or
  ``PAT`` (a personal access token) as the last of two or more words (``MYSQL_PWD``, ``SMTP_PASS``,
  ``GH_PAT``; not the shell's ``PWD``); ``CONNECTION`` then ``STRING``;
- or its value looks like one (``value_is_secret``): a connection string's ``AccountKey=``,
  ``SharedAccessSignature=``, ``SharedAccessKey=``, ``Password=`` or ``Pwd=``; a SAS token or a pre-signed
  URL (``sig=``, ``X-Amz-Signature=``); a URL's query holding ``X-Goog-Signature=``, ``token=``,
  ``access_token=``, ``auth_token=``, ``api_key=``, ``apikey=`` or ``key=`` (after ``?`` or ``&``: a value
  ``key=value`` is none); a URL with a password (``scheme://user:password@host``, spaces in it too:
  ``runner.url_secrets``); a PEM private key; a JWT (three base64url parts, the first ``eyJ...``); a GitHub
  token (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``).

(Not ``runner.workspace.datastore_secrets.looks_secret``: its substrings, right for storage options,
would hide ``TOKENIZERS_PARALLELISM``, ``SESSION_NAME`` or ``AUTHOR``, and say nothing of a value.)
"""

from __future__ import annotations

import functools
import re

from runner.lazy_re import on_first_use
from runner.url_secrets import SECRET_KEYS, SIGNATURE_KEYS, github_token_re, has_password, jwt_re

_words_re = on_first_use(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # CONNECTION_STRING, clientSecret, APIKey


_LAST = frozenset({"PWD", "PASS", "PAT"})  # short names, as the last of two or more words
_NAMED = frozenset({"SAS", "PASSWD", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "CONNSTR"})
_ENDING = ("TOKEN", "APIKEY")  # HF_TOKEN, HFTOKEN, GithubToken, WANDB_APIKEY, OPENAIAPIKEY
# what may follow the word that names a secret, saying which one it is: a number, a stage
_WHICH = frozenset({"PROD", "PRODUCTION", "DEV", "DEVELOPMENT", "TEST", "TESTING", "STAGE", "STAGING",
                    "QA", "UAT", "PRIMARY", "SECONDARY", "OLD", "NEW", "CURRENT", "NEXT", "PREV",
                    "PREVIOUS", "BACKUP", "ALT"})
_QUERY_KEYS = "x-goog-signature|token|access_token|auth_token|api_key|apikey|key"  # in a URL's query only


@functools.cache  # compiled when first used: a cold start need not (test_cold_start)
def _values_re() -> tuple[re.Pattern[str], ...]:
    return (  # the connection-string and signature keys are runner.url_secrets' (its message mask's)
        re.compile(rf"(?i)(?:^|[;\s])(?:{SECRET_KEYS})\s*=\s*[^;\s]"),  # a connection string's key=
        re.compile(rf"(?i)(?:^|[?&])(?:{SIGNATURE_KEYS})=[^&\s]"),  # a SAS token, a pre-signed URL
        re.compile(rf"(?i)[?&](?:{_QUERY_KEYS})=[^&\s#]"),  # a URL's token or Google signature
        re.compile(r"(?i)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),  # PEM
        jwt_re(),  # a JWT: runner.url_secrets' (its message mask's), as a GitHub token
        github_token_re(),
    )


def _words(name: str) -> list[str]:
    return [word.upper() for word in _words_re().findall(name)]


def name_is_secret(name: str) -> bool:
    """Whether the variable's name says it holds a secret (see the module docstring)."""
    words = _words(name)
    if not words:
        return False
    core = list(words)  # API_KEY_2, API_KEY_PROD: the last-word rules read API_KEY
    while len(core) > 1 and (core[-1].isdigit() or core[-1] in _WHICH):
        core.pop()
    return (core[-1] in ("KEY", "PW") or "CONNECTION_STRING" in "_".join(words)
            or (len(core) > 1 and core[-1] in _LAST)  # MYSQL_PWD, GH_PAT (not the shell's PWD)
            or any(word in _NAMED or word.endswith(_ENDING) or "SECRET" in word or "PASSWORD" in word
                   for word in words))


def value_is_secret(value: str) -> bool:
    """Whether the value looks like a secret (see the module docstring)."""
    return any(pattern.search(value) for pattern in _values_re()) or has_password(value)


def is_secret(name: str, value: object) -> bool:
    """The one rule: a non-empty value whose name or content says it is a secret."""
    text = "" if value is None else str(value)
    return bool(text) and (name_is_secret(name) or value_is_secret(text))
