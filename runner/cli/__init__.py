"""The ``runner`` command line: az-ml-style verbs. Each command parses its options, calls the public API
(``runner.client``, ``runner.jobs.operations``), prints, and exits.

``main`` holds the root app (``runner.cli.main.main`` is the entry point) and what the fork server warms;
one module per command group: ``job``, ``model``, ``datastore``, ``environment``, ``cache``.
"""
