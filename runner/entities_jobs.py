"""azure.ai.ml's job setting entities (``JobResourceConfiguration``, ``CommandJobLimits``, ``QueueSettings``,
the distributions, the job services), exported by ``runner.entities`` (the distributions by ``runner``
too). They live in ``runner.spec.job_settings``, where the jobs a workspace returns read them from their
stored spec too (``job.resources``, ``job.distribution``...).
"""

from __future__ import annotations

from runner.spec.job_settings import (
    CommandJobLimits,
    JobResourceConfiguration,
    JupyterLabJobService,
    MpiDistribution,
    PyTorchDistribution,
    QueueSettings,
    RayDistribution,
    SshJobService,
    TensorBoardJobService,
    TensorFlowDistribution,
    VsCodeJobService,
)

__all__ = ["CommandJobLimits", "JobResourceConfiguration", "JupyterLabJobService", "MpiDistribution",
           "PyTorchDistribution", "QueueSettings", "RayDistribution", "SshJobService",
           "TensorBoardJobService", "TensorFlowDistribution", "VsCodeJobService"]
