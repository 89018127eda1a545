"""What a job run as a host process (the ``process`` backend) inherits from the runner's environment.

A host process starts from the environment of the runner that runs it, so that the user's tools work as
in their shell: ``PATH``, ``HOME``, ``LANG``, proxies, ``CUDA_VISIBLE_DEVICES``, ``AWS_PROFILE``, another
CI's ``RUNNER_TEMP``... all pass. Kept out (``kept_out``), as a container never gets them either:

- another run's Azure ML variables (``AZUREML_*``: the job's own come from its plan,
  ``runner.plan.azureml_env``, so one the job emptied stays out; ``AZUREML_RUN_TOKEN`` is a secret) and
  another job's bindings (``AZURE_ML_INPUT_*`` / ``AZURE_ML_OUTPUT_*``, with their ``_STORAGE_OPTIONS``);
- the credentials runner itself reads to reach storage: Azure Storage's (``AZURE_STORAGE_*``: adlfs reads
  them, and the az CLI), azure-identity's (``DefaultAzureCredential``, which adlfs uses: a service
  principal, a user's password, workload and managed identity), fsspec's configuration (``FSSPEC_*``:
  storage options), s3fs's (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``) and
  gcsfs' (``GOOGLE_APPLICATION_CREDENTIALS``). A job's ``direct`` bindings get their own, narrowed to their
  container (``runner.jobs.direct_creds``); one mixed with the runner's would be used instead of them
  (adlfs prefers a connection string to a SAS);
- runner's own settings (``RUNNER_OWN``: every ``RUNNER_*`` runner reads, its workspace and web UI token
  among them); another tool's ``RUNNER_*`` is not runner's and passes.

The job's ``environment_variables`` and its run's variables (direct credentials, MLflow's) come after
this (``runner.backends.process.host_env``): a job that names one of these variables gets its value.
"""

from __future__ import annotations

from collections.abc import Mapping

KEPT_OUT_PREFIXES = ("AZUREML_", "AZURE_ML_INPUT_", "AZURE_ML_OUTPUT_", "AZURE_STORAGE_", "FSSPEC_")

CREDENTIALS = frozenset({
    # azure-identity: EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    # s3fs (botocore) and gcsfs (google-auth)
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
})

# every variable runner reads for itself (tests/unit/backends/test_process_inherited_env.py finds them)
RUNNER_OWN = frozenset({
    "RUNNER_WORKSPACE", "RUNNER_UI_TOKEN", "RUNNER_CACHE_DIR", "RUNNER_CACHE_MAX_BYTES", "RUNNER_NODE_DIR",
    "RUNNER_FORKSERVER", "RUNNER_FORKSERVER_IDLE_S", "RUNNER_ALLOW_PULL", "RUNNER_ALLOW_UNSAFE_DOCKER_ARGS",
    "RUNNER_DOCKER_API_VERSION", "RUNNER_CANCEL_GRACE_S", "RUNNER_RAY_LOST_S", "RUNNER_PIPELINE_MAX_PARALLEL",
    "RUNNER_RETRY_TOTAL_S", "RUNNER_TRANSFER_GENERIC", "RUNNER_VERIFY_MD5", "RUNNER_JOB_CGROUP",
    "RUNNER_JOB_MARK",
})


def kept_out(name: str) -> bool:
    """Whether the runner's variable ``name`` is kept out of a host process job (see the module)."""
    return name.startswith(KEPT_OUT_PREFIXES) or name in CREDENTIALS or name in RUNNER_OWN


def inherited(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of the runner's environment ``environ`` a host process job starts from."""
    return {name: value for name, value in environ.items() if not kept_out(name)}
