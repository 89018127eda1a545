"""An fsspec URL naming an option (a host, a port, a user) that a datastore's storage options give too,
with another value (``sftp://b/x`` with ``host: a``): fsspec's ``_un_chain`` cannot take both and raises
``TypeError`` (``dict() got multiple values for keyword argument 'host'``). ``options_clash`` is the one
error for it, naming the datastore and the option, never its value (storage options may hold secrets).

    except TypeError as exc:
        raise options_clash(ds.url, exc, datastore=ds.name, field="inputs.d.path") from None
"""

from __future__ import annotations

import re

from runner.errors import SpecError
from runner.fsspec_links import fsspec_protocols
from runner.uris import without_password


def options_clash(url: str, exc: TypeError, *, datastore: str | None, field: str | None) -> SpecError:
    """The one error for fsspec's ``TypeError`` (``dict() got multiple values for keyword argument
    'host'``) when a URL names an option (host, port, username) that the storage options give too, with
    another value. The option's value is never shown (storage options may hold secrets)."""
    found = re.search(r"multiple values for keyword argument '(?P<key>\w+)'", str(exc))
    shown = without_password(url)
    where = f"datastore '{datastore}' ({shown})" if datastore else f"'{shown}'"
    if found is None:  # any other: fsspec's words (they name keywords, never values)
        return SpecError(f"{where}: fsspec cannot take its url and storage_options: {exc}", field=field,
                         hint="check the datastore's url and storage_options (`runner datastore show --name "
                              f"{datastore}`)" if datastore else "check the URL")
    key, protocol = found["key"], fsspec_protocols(url)[-1]
    return SpecError(f"{where} gives '{key}' twice, in its url and in its storage_options, with two values; "
                     "fsspec takes one", field=field,
                     hint=f"give {key} once: in the url (and remove '{key}' from storage_options), or only "
                          f"in storage_options (url {protocol}:///<path>, with no {key} in it), then create "
                          "the datastore again: `runner datastore create --file <datastore.yml>`")
