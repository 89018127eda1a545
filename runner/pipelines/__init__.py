"""Pipeline jobs: a graph of command steps (``graph``), each run as a normal command job with the pipeline
as its parent (``orchestrate``), outputs wired into inputs by mode, unchanged steps reused (``reuse``).

May import everything below the public API (``runner.jobs`` and down). Import the modules themselves.
"""
