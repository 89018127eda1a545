"""The folders of a datastore where runner keeps jobs' files, on every datastore (Azure's layout): a job's
outputs without a path go to ``azureml/<job>/`` of the default datastore, of a pipeline's
``settings.default_datastore`` or of a Ray compute's datastore, its artifacts to
``ExperimentRun/dcid.<job>/``, and a Ray job's control files (the node's ``result.json``, which the
follower records, and runner's log on the node) to ``runner/ray-jobs/<job>/``. A job writes the first two
only below its own name and the last never (``runner.workspace.protect``).

    folders = job_folders({"blob": "azure://acct/c"})      # [(datastore, JobFolder, location), ...]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from runner.workspace.db import DEFAULT_DATASTORE
from runner.workspace.outbound_links import inside

RAY_CONTROL_FOLDER = "runner/ray-jobs"  # on the compute's datastore: <job>/result.json, <job>/runner.log


@dataclass(frozen=True)
class JobFolder:
    """One folder of a datastore where runner keeps every job's files, each job's below its name."""

    folder: str  # below the datastore's root
    own: str  # a job's own place in it ("{job}", "dcid.{job}"); "" when no job output may go there
    kept: str  # what runner keeps there, for a refusal

    def rule(self) -> str:
        return "a job writes there only under its own name" if self.own else "only runner writes there"

    def own_place(self, location: str, job_name: str) -> str | None:
        """Where job ``job_name`` may write in this folder at ``location`` (None: nowhere)."""
        return f"{location}/{self.own.format(job=job_name)}" if self.own else None


JOB_FOLDERS = (JobFolder("azureml", "{job}", "every job's default outputs (azureml/<job>/…)"),
               JobFolder("ExperimentRun", "dcid.{job}", "every job's artifacts (ExperimentRun/dcid.<job>/…)"),
               JobFolder(RAY_CONTROL_FOLDER, "", "every Ray job's control files (runner/ray-jobs/<job>/…: "
                                                 "the node's result, which the job's record is made from, "
                                                 "and its log)"))

Located = tuple[str, JobFolder, str]  # (datastore, folder, where the folder physically is)


def job_folders(roots: Mapping[str, str]) -> list[Located]:
    """Every datastore's job folders (the default datastore's first: a refusal names it when another
    datastore shares its location), each where it is as written and, on the host, where a link (a job may
    have left one) makes it lead."""
    found: list[Located] = []
    for datastore in sorted(roots, key=lambda name: (name != DEFAULT_DATASTORE, name)):
        root = roots[datastore].rstrip("/")
        for folder in JOB_FOLDERS:
            found += [(datastore, folder, place) for place in leads_to(f"{root}/{folder.folder}")]
    return found


def leads_to(there: str) -> list[str]:
    """A datastore folder's location, and on the host also where a link on the way (a job may have left
    one) makes it lead, when that is elsewhere."""
    real = "file://" + os.path.realpath(there.removeprefix("file://"))
    return [there, real] if there.startswith("file://") and real != there else [there]


def in_job_folder(where: str, folders: Iterable[Located]) -> Located | None:
    """The job folder ``where`` lies strictly inside (some job's place there), if any."""
    where = where.rstrip("/")
    return next((found for found in folders if where != found[2] and inside(where, found[2])), None)


def datastore_words(datastore: str) -> str:
    """How a refusal names a datastore: the default one as such."""
    if datastore == DEFAULT_DATASTORE:
        return f"the default datastore ({datastore})"
    return f"datastore '{datastore}'"
