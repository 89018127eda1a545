"""``MLClient`` for a local workspace, shaped like ``azure.ai.ml.MLClient``.

    from runner import MLClient            # or: from runner.client import MLClient
    ml_client = MLClient(DefaultAzureCredential(), subscription_id, resource_group, workspace)
    ml_client.models.create_or_update(Model(path="mlflow-model/model.pkl", name="m"))
    ml_client.data.create_or_update(Data(path="example-data/", type="uri_folder", name="iris"))
    for model in ml_client.models.list():
        print(model.name)

``create_or_update`` returns the registered version and, as azure-ai-ml does, sets the ``path`` of the
entity it was given to where the version is stored (so ``Model(path=file_model.path, ...)`` references the
registered files).

Azure's credential, subscription, resource group and workspace name are accepted and kept (nothing is
contacted); ``workspace_dir`` (or ``RUNNER_WORKSPACE``, or ``~/.local/share/runner``) picks the local
workspace, and Azure's names given without it are warned of once (``runner.client_azure``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from runner.client_azure import check_keywords, client_from_config, warn_azure_workspace
from runner.client_compute import ComputeOperations
from runner.client_workspaces import WorkspaceOperations
from runner.components import CommandComponent, ComponentOperations
from runner.entities import Environment
from runner.entities_compute import AnyAzureCompute
from runner.entities_datastores import AnyDatastoreEntity, _AzureStorageDatastore
from runner.errors import SpecError
from runner.not_found import raises_not_found
from runner.poller import Done as _Done
from runner.spec.asset import AssetBase
from runner.spec.data import Data
from runner.spec.model import Model
from runner.spec.names import check_label
from runner.unsupported import no_operations
from runner.workspace.asset_archive import staying_notice
from runner.workspace.components import ComponentStore
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.datastores import (
    AnyDatastore,
    DatastoreStore,
    datastore_from_dict,
    validation_to_spec_error,
)
from runner.workspace.db import DEFAULT_DATASTORE, Workspace
from runner.workspace.environments import EnvironmentRecord, EnvironmentStore, read_conda_file
from runner.workspace.job_output_state import check_job_output
from runner.workspace.paging import Page
from runner.workspace.registry import AssetRegistry, DataRegistry, FileEntry, ModelRegistry
from runner.workspace.resolve import Resolver

logger = logging.getLogger(__name__)

# azure.ai.ml.constants.ListViewType values
ACTIVE_ONLY, ARCHIVED_ONLY, ALL = "ActiveOnly", "ArchivedOnly", "All"

A = TypeVar("A", bound=AssetBase)
Files = tuple[list[FileEntry], bool]


def _view(list_view_type: Any) -> str:
    return str(getattr(list_view_type, "value", list_view_type) or ACTIVE_ONLY).lower()


@raises_not_found("get", "archive", "restore", "restore_staying", "update", "download", "files")
class _AssetOperations(Generic[A]):
    """What ``ml_client.models`` and ``ml_client.data`` share (their rules are the registry's)."""

    def __init__(self, registry: AssetRegistry[A]) -> None:
        self._registry = registry

    def _create_or_update(self, asset: A) -> A:
        """A new version, or (same name + version, same path or the same content at a local path) an update
        of description and tags as given (and of a model's stage when given). The given entity's ``path``
        becomes the registered location, as in azure-ai-ml."""
        self._user_checks(asset)
        created = self._registry.create_or_update(asset)
        asset.path = created.path
        return created

    def create(self, asset: A) -> A:
        """A new version only (the web UI's form): an existing version is refused."""
        self._user_checks(asset)
        return self._registry.create(asset)

    def _user_checks(self, asset: A) -> None:
        """What a user's registration is refused for and a job's own is not: a job's output before the
        job has ended (``runner.workspace.job_output_state``)."""
        check_job_output(self._registry.workspace, asset.path, noun=self._registry.table.schema.noun,
                         check=self._registry.check_remote)

    def update(self, name: str, version: str, *, set_values: dict[str, Any] | None = None,
               add_values: dict[str, str] | None = None, remove: Iterable[str] = ()) -> A:
        """az's ``--set description=..`` / ``--set tags.k=v`` / ``--add tags k=v`` / ``--remove tags.k``
        (and a model's ``--set stage=..`` / ``--remove stage``); nothing else may change. All the tags at
        once: ``set_values={"tags": {"k": "v"}}`` (or a JSON object's text)."""
        return self._registry.update(name, version, set_values=set_values, add_values=add_values,
                                     remove=remove)

    def get(self, name: str, version: str | int | None = None, label: str | None = None) -> A:
        """One version: ``version=`` or ``label="latest"`` (the newest), one of them, as azure-ai-ml's
        ``get`` requires (``SpecError`` otherwise)."""
        table = self._registry.table
        given = None if version is None or str(version) == "" else str(version)
        _version_or_label(given, label, noun=table.schema.noun, name=name, sdk=table.sdk)
        check_label(label, noun=table.schema.noun, name=name, cli=table.schema.cli, sdk=table.sdk)
        return self._registry.get(name, version=given, label=label)

    def archive(self, name: str, version: str | int | None = None, label: str | None = None,
                **_: Any) -> None:
        self._registry.archive(name, self._version(name, version, label))

    def restore(self, name: str, version: str | int | None = None, label: str | None = None,
                **_: Any) -> None:
        """Restore a version, or the whole asset; None, as azure-ai-ml's. A whole restore leaves the
        versions archived on their own archived (as in Azure): a warning (logger ``runner.client``) names
        them and the call that restores one."""
        staying = self.restore_staying(name, version, label)
        if staying:
            sdk = self._registry.table.sdk
            logger.warning("%s", staying_notice(
                self._registry.table.schema.noun, name, staying,
                restore=lambda one: f"ml_client.{sdk}.restore('{name}', version='{one}')",
                list_them=f"ml_client.{sdk}.list(name='{name}', list_view_type=ListViewType.ARCHIVED_ONLY)"))

    def restore_staying(self, name: str, version: str | int | None = None,
                        label: str | None = None) -> list[str]:
        """``restore`` (runner's addition, for the CLI): the versions that stay archived, oldest first
        (none for a version's restore), returned, not warned of."""
        return self._registry.restore(name, self._version(name, version, label))

    def download(self, name: str, version: str | int | None = None, download_path: str | Path = ".",
                 *, quiet: bool = False, **_: Any) -> Path:
        return self._registry.download(name, None if version is None else str(version), download_path,
                                       quiet=quiet)

    def page(self, name: str | None = None, *, name_contains: str | None = None, tag: str | None = None,
             include_archived: bool = False, archived_only: bool = False, offset: int = 0,
             limit: int | None = None) -> Page[A]:
        """One page of ``list`` (runner's addition, for the web UI and scripts): the latest version of
        each asset, or with ``name`` its versions; filtered by part of the name and a tag
        (``key`` or ``key=value``)."""
        return self._registry.page(name, name_contains=name_contains, tag=tag,
                                   include_archived=include_archived, archived_only=archived_only,
                                   offset=offset, limit=limit)

    def files(self, name: str, version: str | int | None = None, *, limit: int = 1000) -> Files:
        """A version's files and their sizes (at most ``limit``; the flag says there were more)."""
        return self._registry.files(name, None if version is None else str(version), limit=limit)

    def _version(self, name: str, version: str | int | None, label: str | None) -> str | None:
        if version is not None:
            return str(version)
        return self.get(name, label=label).version if label else None


def _version_or_label(version: str | None, label: str | None, *, noun: str, name: str, sdk: str) -> None:
    """azure-ai-ml's rule for a model's, data asset's or environment's ``get``: a version or a label, not
    both (its "Must provide either version or label", "Cannot specify both version and label")."""
    if version and label:
        problem = f"give version or label to get {noun} '{name}', not both"
    elif not version and not label:
        problem = f"must provide either version or label to get {noun} '{name}'"
    else:
        return
    raise SpecError(f"{problem} (as azure-ai-ml's ml_client.{sdk}.get)",
                    hint=f'ml_client.{sdk}.get("{name}", version="1") for a version, or label="latest" for '
                         f'the newest (ml_client.{sdk}.list(name="{name}") lists the versions)')


class ModelOperations(_AssetOperations[Model]):
    """``ml_client.models``."""

    def create_or_update(self, model: Model, **_: Any) -> Model:
        """A new version, or (same name + version, same path or local content) an update of description,
        tags and stage; the model's ``path`` becomes the registered location, as in azure-ai-ml."""
        return self._create_or_update(model)

    def list(self, name: str | None = None, stage: str | None = None, *, list_view_type: Any = None,
             archived_only: bool = False, include_archived: bool = False,
             max_results: int | None = None) -> Iterator[Model]:
        """Without ``name`` one entry per model (its latest version, ``latest_version`` set, as Azure's
        containers); with ``name`` its versions, newest first."""
        view = _view(list_view_type)
        models = self._registry.list(name, include_archived=include_archived or view == "all",
                                     archived_only=archived_only or view == "archivedonly",
                                     max_results=None if stage else max_results)
        if stage:
            models = [m for m in models if m.stage == stage][:max_results or None]
        return iter(models)


class DataOperations(_AssetOperations[Data]):
    """``ml_client.data``."""

    def create_or_update(self, data: Data, **_: Any) -> Data:
        """A new version, or (same name + version, same path or local content) an update of description
        and tags; the data asset's ``path`` becomes the registered location, as in azure-ai-ml."""
        return self._create_or_update(data)

    def list(self, name: str | None = None, *, list_view_type: Any = None, archived_only: bool = False,
             include_archived: bool = False, max_results: int | None = None) -> Iterator[Data]:
        """Without ``name`` one entry per data asset (its latest version, ``latest_version`` set); with
        ``name`` its versions, newest first."""
        view = _view(list_view_type)
        return iter(self._registry.list(name, include_archived=include_archived or view == "all",
                                        archived_only=archived_only or view == "archivedonly",
                                        max_results=max_results))


@raises_not_found("get", "get_default")
class DatastoreOperations:
    """``ml_client.datastores``."""

    def __init__(self, store: DatastoreStore) -> None:
        self._store = store

    def create_or_update(self, datastore: AnyDatastore | AnyDatastoreEntity | dict[str, Any]) -> AnyDatastore:
        """A datastore: its dict (the YAML's fields), ``load_datastore``'s, or azure.ai.ml's entity
        (``AzureBlobDatastore(..., credentials=AccountKeyConfiguration(...))``)."""
        if isinstance(datastore, _AzureStorageDatastore):
            datastore = datastore._to_data()
        try:
            ds = datastore_from_dict(datastore, created=True) if isinstance(datastore, dict) else datastore
        except ValidationError as exc:
            raise validation_to_spec_error(exc) from exc
        return self._store.save(ds)

    def get(self, name: str) -> AnyDatastore:
        return self._store.get(name)

    def get_default(self) -> AnyDatastore:
        return self._store.get(DEFAULT_DATASTORE)

    def list(self) -> Iterator[AnyDatastore]:
        return iter(self._store.list())

    def delete(self, name: str) -> None:
        self._store.delete(name)


@raises_not_found("get")
class EnvironmentOperations:
    """``ml_client.environments``: Azure environment names mapped to local images."""

    def __init__(self, store: EnvironmentStore) -> None:
        self._store = store

    def create_or_update(self, environment: EnvironmentRecord | Environment | None = None, *,
                         name: str | None = None, version: str | None = None, image: str | None = None,
                         build_context: str | Path | None = None, dockerfile: str | None = None,
                         description: str | None = None, conda_file: str | dict[str, Any] | None = None,
                         tags: dict[str, str] | None = None) -> EnvironmentRecord:
        """A record, or azure.ai.ml's ``Environment`` entity (``image`` [+ ``conda_file``], or
        ``build=BuildContext(...)``; ``load_environment``'s), or the fields as keywords. A conda file
        (a path, relative to the current directory, or a mapping) is stored as its text."""
        conda_text = None
        if isinstance(environment, Environment):
            name, image, description = environment.name, environment.image, environment.description
            version = None if environment.version is None else str(environment.version)
            conda_file, tags = environment.conda_file, environment.tags
            if environment.build is not None:
                build_context, dockerfile = environment.build.path, environment.build.dockerfile_path
        elif environment is not None:
            name, version, image = environment.name, environment.version, environment.image
            build_context, dockerfile = environment.build_context, environment.dockerfile
            description, conda_text, tags = environment.description, environment.conda_text, environment.tags
        if not name:
            raise SpecError("an environment needs a name", field="name")
        if conda_file is not None:
            conda_text = read_conda_file(conda_file, image=image, base_dir=Path.cwd())
        return self._store.create(name, version=version, image=image, build_context=build_context,
                                  dockerfile=dockerfile, description=description, conda_file=conda_text,
                                  tags={str(k): str(v) for k, v in (tags or {}).items()})

    def get(self, name: str, version: str | int | None = None, label: str | None = None) -> EnvironmentRecord:
        """A version (``version="1"``), or the newest (``label="latest"``): one of them, as azure-ai-ml's
        ``get`` requires (``SpecError`` otherwise)."""
        given = None if version is None or str(version) == "" else str(version)
        _version_or_label(given, label, noun="environment", name=name, sdk="environments")
        check_label(label, noun="environment", name=name, cli="environment", sdk="environments")
        return self._store.get(name, given)

    def list(self, name: str | None = None) -> Iterator[EnvironmentRecord]:
        return iter(self._store.list(name))


class MLClient:
    """A client for a local workspace (Azure's arguments are accepted: see ``runner.client_azure``)."""

    def __init__(self, credential: Any = None, subscription_id: str | None = None,
                 resource_group_name: str | None = None, workspace_name: str | None = None,
                 registry_name: str | None = None, *, workspace_dir: str | Path | None = None,
                 **kwargs: Any) -> None:
        check_keywords(kwargs)
        self.credential = credential
        self.subscription_id = subscription_id
        self.resource_group_name = resource_group_name
        self.workspace_name = workspace_name
        self._workspace = Workspace(workspace_dir)
        if workspace_dir is None:  # Azure's names given choose nothing here: one warning says so
            warn_azure_workspace({"workspace_name": workspace_name, "subscription_id": subscription_id,
                                  "resource_group_name": resource_group_name}, self._workspace.root)
        self._resolver: Resolver = Resolver(self._workspace)
        self.registry_name = registry_name  # Azure registries are local namespaces of models here
        self.models = ModelOperations(ModelRegistry(self._workspace, resolver=self._resolver,
                                                    registry_name=registry_name))
        self.data = DataOperations(DataRegistry(self._workspace, resolver=self._resolver,
                                                registry_name=registry_name))
        self.datastores = DatastoreOperations(self._resolver.datastores)
        self.environments = EnvironmentOperations(self._resolver.environments)
        self.compute = ComputeOperations(ComputeStore(self._workspace))
        self.workspaces = WorkspaceOperations(self._workspace.root, workspace_name=workspace_name,
                                              resource_group_name=resource_group_name,
                                              subscription_id=subscription_id)
        self.components = ComponentOperations(ComponentStore(self._workspace))
        self._jobs: Any = None

    @classmethod
    def from_config(cls, credential: Any = None, *, path: str | Path | None = None,
                    file_name: str | None = None, workspace_dir: str | Path | None = None,
                    **kwargs: Any) -> MLClient:
        """azure.ai.ml's: the config file at ``path`` (or found from there or the current folder, as Azure
        finds it) names the Azure workspace; ``workspace_dir``, else its ``runner_workspace``, the local."""
        return client_from_config(cls, credential, path, file_name, workspace_dir, kwargs)

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def resolver(self) -> Resolver:
        return self._resolver

    @property
    def jobs(self) -> Any:
        """``ml_client.jobs`` (``runner.client_jobs.PythonJobOperations``: command jobs and pipelines, their
        errors in Python's words; imported on first use)."""
        if self._jobs is None:
            from runner.client_jobs import PythonJobOperations  # the job lifecycle: on first use

            self._jobs = PythonJobOperations(self._workspace)
        return self._jobs

    @jobs.setter
    def jobs(self, value: Any) -> None:
        self._jobs = value

    def create_or_update(self, entity: Any, **kwargs: Any) -> Any:
        """Azure's generic ``ml_client.create_or_update``: models, data, datastores and components here, jobs
        to ``.jobs``."""
        if isinstance(entity, CommandComponent):
            return self.components.create_or_update(entity, **kwargs)
        if isinstance(entity, Model):
            return self.models.create_or_update(entity)
        if isinstance(entity, Data):
            return self.data.create_or_update(entity)
        if isinstance(entity, (AnyDatastoreEntity, AnyDatastore)):
            return self.datastores.create_or_update(entity)
        return self.jobs.create_or_update(entity, **kwargs)

    def begin_create_or_update(self, entity: Any, **kwargs: Any) -> _Done:
        """Azure's generic long-running form, for a compute (``ml_client.compute.begin_create_or_update``)."""
        if isinstance(entity, (AnyAzureCompute, RayCompute)):
            return self.compute.begin_create_or_update(entity)
        raise SpecError(f"ml_client.begin_create_or_update takes a compute here, not {type(entity).__name__}",
                        hint="pass AmlCompute(...), ComputeInstance(...) or a Ray compute; "
                             "ml_client.create_or_update takes models, data, datastores, components and jobs")

    if not TYPE_CHECKING:  # a type checker still tells a misspelled attribute
        def __getattr__(self, name: str) -> Any:
            """An attribute MLClient does not have: azure.ai.ml's operations for what runner does not do
            (``online_endpoints``, ``schedules``...) name that feature, others the close one."""
            if name.startswith("_"):
                raise AttributeError(name)
            raise no_operations("MLClient", name, [a for a in dir(self) if not a.startswith("_")])

    def __repr__(self) -> str:
        return f"MLClient(workspace_dir={str(self._workspace.root)!r})"
