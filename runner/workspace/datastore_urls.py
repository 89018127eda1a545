"""What a datastore's URL (an fsspec datastore's ``url``, an Azure one's ``account_url``) may not hold: a
secret. It is shown and kept with the datastore's configuration, so a query string (often a SAS token) or
a password (``user:password@``) is refused where it is written, and never echoed; nor a runner-only
protocol name (``runner-abfs://``). Nor, when a datastore is created, a protocol no fsspec filesystem
installed here knows (a job reading through one saved before is told so: ``url_protocols``). fsspec is
imported only for that check.

    url = without_secret_query(value, "url")   # in a field validator: one error at that field's line
    refuse_unknown_protocol(url)                # the same, when the datastore is created
"""

from __future__ import annotations

from runner.fsspec_links import OPEN_ENDED, fsspec_protocols
from runner.reserved_protocols import reserved_message, reserved_protocol
from runner.spec.validation import runner_error
from runner.uris import has_password, without_password, without_query
from runner.url_secrets import without_secrets

CHAINS = "simplecache::s3://<bucket>/<key>, zip://<member>::file:///<archive>"


def without_secret_query(value: str | None, field: str) -> str | None:
    """A datastore's URL is shown and kept with its configuration, not its secrets: a query string there
    (often a SAS token) or a password is refused, and never echoed. Nor, ever (the Python API's too), a
    protocol name the runner keeps for itself (``runner-abfs://``: ``reserved_protocols``)."""
    if value is not None and (reserved := reserved_protocol(value)) is not None:
        raise runner_error(*reserved_message(value, reserved))
    if value is not None and "?" in value:
        raise runner_error(f"{field} '{without_password(without_query(value))}' has a query string: a SAS "
                           "token or other secret there would be shown and stored with the configuration",
                           "give the URL without its query, and the SAS token as credentials: sas_token: "
                           "(kept in the workspace's owner-only secrets), or fsspec credentials in "
                           "storage_options")
    if value is not None and has_password(value):  # shown, kept, and in every URL a job records
        raise runner_error(f"{field} '{without_password(value)}' has a password (user:password@): it would "
                           "be shown and stored with the configuration", "give the URL without it, and it in "
                           "storage_options (owner-only secrets, shown as ***): username/password for ftp, "
                           "sftp, smb; client_kwargs: {headers: {Authorization: ...}} for http(s)")
    return value


def known_protocols() -> list[str]:
    """fsspec's protocols a path may use (its own and those installed packages register; not the
    ``OPEN_ENDED`` ones), whether or not the package a protocol needs is installed."""
    import fsspec  # only for a URL

    return sorted(set(fsspec.available_protocols()) - set(OPEN_ENDED))


def unknown_protocol(url: str) -> str | None:
    """The first link's protocol of ``url`` no fsspec filesystem knows (None: each one is known)."""
    import fsspec  # only for a URL

    known = set(fsspec.available_protocols())
    return next((protocol for protocol in fsspec_protocols(url) if protocol not in known), None)


def datastore_url_hint() -> str:
    """What a datastore's URL may be."""
    return (f"a datastore's url is <protocol>://<path> with a protocol fsspec knows "
            f"({', '.join(known_protocols())}), or a chain ({CHAINS}): check the protocol's spelling, or "
            "install the package that provides it")


def refuse_unknown_protocol(url: str) -> None:
    """For a datastore being created (a field validator's error: at its ``url:`` line)."""
    if (protocol := unknown_protocol(url)) is not None:
        raise runner_error(f"url '{without_secrets(url)}' uses the protocol '{protocol}', which no fsspec "
                           "filesystem installed here knows", datastore_url_hint())
