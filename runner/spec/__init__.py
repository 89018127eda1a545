"""Parse and check: job and asset YAML (or Python builder data) in, checked pydantic specs out.

No I/O beyond reading the spec file. May import: ``runner.errors``, ``runner.modes``, ``runner.uris``,
``runner.constants``. Import the modules themselves (``runner.spec.load``, ``runner.spec.job``): this
face stays empty so that importing one light module (``names``, ``yamlio``) never loads pydantic.
"""
