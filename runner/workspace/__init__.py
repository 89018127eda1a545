"""The local workspace: what is stored (SQLite, datastores, environments, the model registry) and how a
reference resolves against it.

May import: ``runner.spec`` and the leaf vocabulary; ``mounts`` only in ``transfers`` (the one place
storage copies happen). Never ``plan``, ``backends``, ``jobs`` or above.
"""
