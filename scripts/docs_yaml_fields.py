"""One line per YAML field for the generated YAML reference (``scripts/docs_yaml.py``).

A field the spec models have and this table lacks fails the docs build: describe it here. Keys are the
dotted YAML path (``inputs.<name>.mode``); ``datastore.`` and ``model.`` prefix those YAMLs' fields; a
literal input's ``type`` is ``inputs.<name>.type (literal)``. Fields runner ignores also get the reason
from ``runner.spec.load.IGNORED`` in the page.
"""

from __future__ import annotations

FIELD_DOCS: dict[str, str] = {
    # -- command job ---------------------------------------------------------------------------------
    "$schema": "Accepted and not checked (Azure's editors use it).",
    "type": "Only command jobs run here; any other type is refused.",
    "name": "The job's name (letters, digits, `-`, `_`); generated when omitted. "
            "`--name` on the command line wins.",
    "display_name": "Kept in the job's record.",
    "experiment_name": "Kept in the job's record; the name of the job's MLflow experiment.",
    "description": "Accepted (not used).",
    "tags": "Accepted (not used); values become text.",
    "properties": "Accepted (not used); values become text.",
    "code": "A folder, relative to the YAML. It is copied into the job's folder and is the command's "
            "working directory (`/mnt/runner/code` in a container).",
    "command": "The shell command. `${{inputs.x}}`, `${{outputs.y}}` and `$<<inputs.x>>` are substituted; "
               "`$[[ ... ]]` fragments are dropped when the optional input inside has no value.",
    "environment": "An environment reference (`azureml:<name>:<version>`, `azureml:<name>@latest`, a "
                   "registry URI) mapped with `runner environment create`, or an inline environment.",
    "environment_variables": "Passed to the command as written (not substituted, as in Azure).",
    "inputs": "Named inputs: models and data (`type`, `path`, `mode`) or literal values.",
    "outputs": "Named outputs (`type`, `path`, `mode`, `name`, `version`). Every job also has `artifacts`.",
    "resources": "Container resources.",
    "limits": "Limits of the run.",
    "distribution": "The command gets the variables Azure ML sets for it (`pytorch`: `MASTER_ADDR`, "
                    "`MASTER_PORT`, `WORLD_SIZE`, `NODE_RANK`, `RANK`, `LOCAL_RANK`; `tensorflow`: "
                    "`TF_CONFIG`; `mpi`: `OMPI_COMM_WORLD_*`), for the one process runner starts; more "
                    "processes run as one (a warning). `ray` is ignored (a warning).",
    "compute": "`local-process` (or `azureml:local-process`) runs the command as a host process, like "
               "`--backend process`.",
    "identity": "",
    "services": "",
    "queue_settings": "",
    "parent_job_name": "",
    # -- inline environment --------------------------------------------------------------------------
    "environment.image": "A Docker image that exists locally (nothing is pulled unless "
                         "`RUNNER_ALLOW_PULL=1`).",
    "environment.build": "A build context: built with `docker build` once per content hash.",
    "environment.conda_file": "",
    "environment.name": "Accepted (not used).",
    "environment.version": "Accepted (not used).",
    "environment.description": "Accepted (not used).",
    "environment.tags": "Accepted (not used).",
    "environment.os_type": "Accepted (not used): containers are Linux.",
    "environment.inference_config": "",
    "environment.build.path": "The context folder, relative to the YAML.",
    "environment.build.dockerfile_path": "The Dockerfile, relative to the context.",
    # -- resources and limits ------------------------------------------------------------------------
    "resources.instance_count": "Values above 1 run as one instance (a warning).",
    "resources.instance_type": "",
    "resources.shm_size": "The container's `/dev/shm` size (`2g`, `512m`).",
    "resources.docker_args": "Extra `docker run` options from a safe subset (`--ipc`, `--ulimit`, "
                             "`--cap-add`, `--cap-drop`, `--env`, `--shm-size`, `--memory`, `--cpus`, "
                             "`--user`, `--gpus`, `--tmpfs`, ...); anything else (networks, privileged "
                             "mode, volumes, devices) is refused.",
    "resources.gpu_count": "GPUs to give the container (`all` or a count).",
    "resources.properties": "",
    "resources.locations": "",
    "resources.max_instance_count": "",
    "limits.timeout": "Seconds; a job still running then is stopped and marked Failed.",
    # -- inputs --------------------------------------------------------------------------------------
    "inputs.<name>.type": "`uri_folder` (default), `uri_file`, `mltable`, `custom_model`, `mlflow_model` "
                          "or `triton_model`; with the path's kind it decides the allowed modes (the "
                          "matrix in the modes guide).",
    "inputs.<name>.path": "A local path (relative to the YAML), `azureml://datastores/...`, "
                          "`azureml://jobs/...`, `runs:/...`, `azureml:<name>:<version>`, a registry "
                          "model, or an fsspec URL.",
    "inputs.<name>.mode": "How the job sees the input: `ro_mount` (default), `download` or `direct` "
                          "(`mount` means `ro_mount`). Checked against the matrix.",
    "inputs.<name>.description": "Accepted (not used).",
    "inputs.<name>.optional": "An optional input may have no path or value; `$[[ ... ]]` fragments "
                              "naming it are then dropped from the command.",
    "inputs.<name>.datastore": "",
    "inputs.<name>.path_on_compute": "",
    "inputs.<name>.type (literal)": "The type of a literal input; `value` and `default` are checked "
                                    "against it.",
    "inputs.<name>.value": "The literal's value (`name: 3` is the short form). Passed as Python's "
                           "`str()` of it (`True`, `1.5`).",
    "inputs.<name>.default": "Used when there is no `value`.",
    "inputs.<name>.min": "The smallest allowed number.",
    "inputs.<name>.max": "The largest allowed number.",
    "inputs.<name>.enum": "The allowed values.",
    # -- outputs -------------------------------------------------------------------------------------
    "outputs.<name>.type": "`uri_folder` (default), `uri_file`, `mltable`, `custom_model`, "
                           "`mlflow_model` or `triton_model` (the matrix decides the allowed modes).",
    "outputs.<name>.path": "Where the output goes (`azureml://datastores/<ds>/paths/<p>`, ...); default "
                           "`azureml://datastores/workspaceblobstore/paths/azureml/<job>/<name>/`.",
    "outputs.<name>.mode": "`rw_mount` (default), `upload` or `direct` (`mount` means `rw_mount`).",
    "outputs.<name>.name": "Register the output as this model when the job completes (lineage: the job). "
                           "A `uri_folder` / `uri_file` output becomes a `custom_model` version (a "
                           "warning: Azure ML would make a data asset).",
    "outputs.<name>.version": "The version to register (needs `name`); the next one when omitted.",
    "outputs.<name>.description": "Accepted (not used).",
    # -- model YAML ----------------------------------------------------------------------------------
    "model.$schema": "Accepted and not checked.",
    "model.name": "The model's name (letters, digits, `-`, `_`, `.`).",
    "model.version": "A number or short name; the next version when omitted. An existing version is "
                     "refused.",
    "model.path": "A local file or folder (copied into `workspaceblobstore` at "
                  "`LocalUpload/<name>/<version>/`), or a datastore, job output, `runs:/` or URL path "
                  "(referenced in place).",
    "model.type": "`custom_model` (default), `mlflow_model` (a folder with an `MLmodel` file) or "
                  "`triton_model` (a folder). Azure's `CustomModel`/`MLFlowModel`/`TritonModel` work too.",
    "model.description": "Free text; can be updated later.",
    "model.tags": "Key/value text; can be updated later.",
    "model.properties": "Key/value text; immutable.",
    "model.stage": "Free text; immutable.",
    "model.flavors": "Kept as given; immutable.",
    "model.id": "Azure's resource id.",
    "model.creation_context": "Azure's creation record.",
    "model.created_at": "When the version was registered.",
    "model.archived": "Whether the version is archived.",
    "model.job_name": "The lineage: the job the model came from.",
    "model.datastore_uri": "Where the files are.",
    "model.latest_version": "Azure's latest version of the model.",
    # -- datastore YAML ------------------------------------------------------------------------------
    "datastore.name": "The datastore's name (letters, digits, `_`, `-`), used in "
                      "`azureml://datastores/<name>/paths/...`.",
    "datastore.description": "Accepted (shown by `runner datastore show`).",
    "datastore.tags": "Accepted (shown by `runner datastore show`).",
    "datastore.$schema": "Accepted and not checked.",
    "datastore.type": "The kind of store.",
    "datastore.path": "The folder (absolute, or relative to the YAML's folder).",
    "datastore.account_name": "The storage account.",
    "datastore.container_name": "The blob container (`azure_blob`); it must exist.",
    "datastore.filesystem": "The filesystem (`azure_data_lake_gen2`'s name for the container); it must "
                            "exist.",
    "datastore.endpoint": "Azure's storage suffix.",
    "datastore.protocol": "`https` (or `http` for an emulator).",
    "datastore.account_url": "A full blob endpoint such as `http://127.0.0.1:10000/devstoreaccount1` "
                             "(Azurite).",
    "datastore.credentials": "One of: `account_key`, `sas_token`, or `tenant_id` + `client_id` + "
                             "`client_secret`; none means `DefaultAzureCredential` (az login, managed "
                             "identity).",
    "datastore.connection_string": "A storage connection string instead of `account_name` and "
                                   "`credentials`.",
    "datastore.credentials.account_key": "The account key.",
    "datastore.credentials.sas_token": "A SAS token.",
    "datastore.credentials.tenant_id": "A service principal's tenant.",
    "datastore.credentials.client_id": "A service principal's client id.",
    "datastore.credentials.client_secret": "A service principal's secret.",
    "datastore.url": "An fsspec URL (`s3://bucket/prefix`, `memory://x`).",
    "datastore.storage_options": "Keyword arguments for the fsspec filesystem (kept with the "
                                 "datastore's secrets).",
}
