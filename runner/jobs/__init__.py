"""A job's lifecycle: submit (plan against the workspace, record Queued), run (materialize, execute on a
backend, supervise, finalize the outputs), record (status, lineage, output registration), recover.

May import everything below it: ``backends``, ``plan``, ``workspace``, ``spec``, the leaf vocabulary,
and ``mounts`` (only in ``materialize`` and ``recovery``). Never the public API or the CLI.
"""
