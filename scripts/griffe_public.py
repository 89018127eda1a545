"""A griffe extension for the API reference (mkdocs.yml, mkdocstrings' ``extensions``): an attribute a
class only sets in ``__init__`` (``self.path = str(path)``) and does not document is an implementation
detail the signature already shows, so it is left out; class-level attributes (pydantic fields,
constants such as ``AssetTypes.URI_FILE``), methods and properties stay.
"""

from __future__ import annotations

from typing import Any

import griffe


class HideUndocumentedInstanceAttributes(griffe.Extension):
    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, member in list(cls.members.items()):
            if (not member.is_alias and member.is_attribute and not member.docstring
                    and "class-attribute" not in member.labels and "property" not in member.labels):
                cls.del_member(name)
