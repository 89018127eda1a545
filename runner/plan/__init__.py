"""The run plan: from a checked spec and resolved paths to a ``RunPlan``, with no I/O; printable
(``render``) and storable (``stored``).

May import: ``runner.spec``, the types of ``runner.workspace`` (``resolved``, the layout constants) and
the leaf vocabulary. Never a resolver, a backend or the job lifecycle.
"""
