"""The protocol names the runner keeps for itself, which no path or URL a user writes may use.

The runner reads Azure with its own retrying adlfs, which it registers with fsspec, in its process, under
runner-only names (``mounts.stores.azure_urls.OWN_PROTOCOLS``: ``runner-abfs``, ``runner-az``,
``runner-abfss``). A URL written with one would be opened by fsspec once they are registered (a job with an
Azure input registers them), yet read by no check that knows adlfs' names (``abfs://``, ``az://``,
``abfss://``): the job-folder rule, a matching datastore's credentials. So every name beginning with
``runner-`` is the runner's (``is_reserved``), and one written in a path (``parse_path``, through
``refuse_protocols``), a chain's link, the protocols fsspec reads a datastore's URL as, or a datastore's
``url:`` is one error at that field.

    refuse_reserved("simplecache::runner-abfs://c/x", ["simplecache", "runner-abfs"], "outputs.o.path")
"""

from __future__ import annotations

from runner.errors import SpecError
from runner.url_secrets import without_secrets

RESERVED_PREFIX = "runner-"  # the runner's own protocol names begin with it (OWN_PROTOCOLS' do)
ALLOWED = "abfs://, az:// or abfss://"  # adlfs' names for Azure, which the runner reads with retries


def is_reserved(protocol: str) -> bool:
    """Whether ``protocol`` is one of the runner's own names (any case)."""
    return protocol.lower().startswith(RESERVED_PREFIX)


def _link_protocols(url: str) -> list[str]:
    """Each link's protocol as written: ``<protocol>://...``, or a bare name before another link
    (``simplecache::``); a last link without ``://`` is a path."""
    links = url.split("::")
    return [link.split("://", 1)[0] if "://" in link else link for i, link in enumerate(links)
            if "://" in link or i < len(links) - 1]


def reserved_protocol(url: str, protocols: list[str] | None = None) -> str | None:
    """The first runner-only protocol ``url`` names as written, or that ``protocols`` (as fsspec reads
    it) holds; None when there is none."""
    return next((p for p in (*_link_protocols(url), *(protocols or [])) if is_reserved(p)), None)


def reserved_message(url: str, protocol: str) -> tuple[str, str]:
    """The error's message and hint for ``url`` naming ``protocol`` (a runner-only name)."""
    shown = without_secrets(url)
    theirs = protocol[len(RESERVED_PREFIX):].lower()
    written = shown.replace(f"{protocol}://", f"{theirs}://")
    instead = f"write '{written}' " if theirs in ("abfs", "az", "abfss") and written != shown else "write "
    message = (f"'{shown}' uses the protocol '{protocol}', a name the runner keeps for its own reads "
               f"(every protocol beginning with '{RESERVED_PREFIX}' is the runner's); a path or URL may not "
               "use it")
    hint = (f"{instead}with adlfs' own protocol for Azure: {ALLOWED} (the runner reads them with retries "
            "itself), or the protocol of the store the data is on (s3://, gs://, ...)")
    return message, hint


def refuse_reserved(url: str, protocols: list[str] | None, field: str | None) -> None:
    """One ``SpecError`` at ``field`` for a runner-only protocol in ``url`` or ``protocols``."""
    if (protocol := reserved_protocol(url, protocols)) is not None:
        message, hint = reserved_message(url, protocol)
        raise SpecError(message, field=field, hint=hint)
