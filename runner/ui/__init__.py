"""runner's web UI (``runner ui``): Starlette, Jinja2 templates and htmx kept in the package (no CDN).

    from runner.ui.app import create_app          # needs the optional extra: pip install 'runner[ui]'
    app = create_app(MLClient(workspace_dir="ws"), token=secrets.token_urlsafe(32))

It reads and writes through the same operations as the CLI and ``MLClient`` (``ml_client.models``,
``ml_client.jobs``, datastores, environments); it has no data layer of its own. Each section of the
site is one module (``models``, ``jobs``, ``stores``) with its routes, the view data its pages and its
JSON API (``/api/...``) share, and its templates. ``app`` puts them together with the security
(``security``: the host, an access token on every request, CSRF and Origin checks, strict headers);
``server`` runs it with uvicorn.

This package imports nothing at import time: ``import runner.cli.main`` must not load Starlette.
"""
