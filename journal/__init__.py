"""Counselling Journal: a Flask app whose stolen database is noise without a user's passphrase."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: Mapping[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints. No I/O beyond creating instance/."""
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("JOURNAL_INSTANCE_PATH")
        or os.path.join(_ROOT, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(_ROOT, "templates"),
    )
    # Owner-only: it holds the database and the practice's secrets.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)

    from . import config as config_module

    config_module.load_config(app, config)

    from . import audit, cli, db, errors, i18n, security, templating

    audit.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from .auth.routes import bp as auth_bp
    from .cases.routes import bp as cases_bp
    from .export import routes as _export_routes  # noqa: F401 - views on the cases blueprint
    from .portal.routes import bp as portal_bp
    from .practice.routes import bp as practice_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(practice_bp)
    app.register_blueprint(portal_bp)

    from . import throttle

    throttle.init_app(app)

    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app
