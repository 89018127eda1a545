"""A registered environment version as ``ml_client.environments`` returns it (``EnvironmentRecord``), with
azure.ai.ml's ``Environment`` attributes read from what the workspace keeps (``runner.workspace
.environments`` stores and resolves them).

    env = ml_client.environments.get("sklearn-local-env", version="1")
    env.id                 # azureml:sklearn-local-env:1 (what command(environment=env) runs in)
    env.conda_file         # the conda file, loaded: {"name": ..., "dependencies": [...]}
    env.build              # None, or .path / .dockerfile_path of a mapped build context
    env.creation_context.created_at

Its JSON (``runner environment show -o json``, the web UI) is the record's as it always was: the conda
file's text under ``conda_file``; ``latest_version`` is not dumped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from runner.spec.creation_context import CreationContext
from runner.spec.yamlio import load_yaml_text
from runner.workspace.db import utcnow


@dataclass(frozen=True)
class EnvironmentBuild:
    """A mapped environment's build context, as azure.ai.ml's ``BuildContext``: ``path`` (the absolute
    host path) and ``dockerfile_path`` (relative to it)."""

    path: str
    dockerfile_path: str = "Dockerfile"


class EnvironmentRecord(BaseModel):
    """A registered environment version, with azure.ai.ml's ``Environment`` attributes: ``id`` (its
    reference), ``creation_context``, ``build``, ``conda_file`` (the conda file loaded, a mapping; its text
    as registered is ``conda_text``, what ``model_dump`` writes as ``conda_file``) and, on the entries of
    ``EnvironmentStore.list()`` without a name, ``latest_version``."""

    name: str
    version: str
    image: str | None = None
    build_context: str | None = None  # absolute host path of the docker build context
    dockerfile: str | None = None  # relative to build_context (default Dockerfile)
    # the conda file's text, as registered (installed on ``image``); given and dumped as ``conda_file``
    conda_text: str | None = Field(default=None, validation_alias=AliasChoices("conda_file", "conda_text"))
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    builtin: bool = False  # one of the curated environments the provisioned image holds
    latest_version: str | None = Field(default=None, exclude=True)  # set by list() without a name

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The record's JSON (``environment show``, the web UI) as before: the conda file's text under
        ``conda_file``, in its place."""
        return {("conda_file" if key == "conda_text" else key): value for key, value in handler(self).items()}

    @property
    def reference(self) -> str:
        return f"azureml:{self.name}:{self.version}"

    @property
    def id(self) -> str:
        """azure.ai.ml's ``id``: the reference a job's ``environment`` takes, ``azureml:<name>:<version>``."""
        return self.reference

    @property
    def conda_file(self) -> dict[str, Any] | None:
        """The conda file, loaded (a mapping, as azure.ai.ml's ``Environment.conda_file``); None without
        one."""
        if self.conda_text is None:
            return None
        data = load_yaml_text(self.conda_text).data
        return data if isinstance(data, dict) else None

    @property
    def build(self) -> EnvironmentBuild | None:
        """azure.ai.ml's ``build``: the build context of a mapped build, None for an image."""
        if self.build_context is None:
            return None
        return EnvironmentBuild(self.build_context, self.dockerfile or "Dockerfile")

    @property
    def creation_context(self) -> CreationContext:
        """azure.ai.ml's ``creation_context``: ``created_at``, also the ``last_modified_at`` (a version is
        replaced whole, as a new record); who is not recorded locally."""
        return CreationContext(created_at=self.created_at, last_modified_at=self.created_at)

    @property
    def image_name(self) -> str:
        """The image to run: ``image``, or the tag a build of ``build_context`` gets."""
        return self.image or f"runner-env/{self.name.lower()}:{self.version}"


