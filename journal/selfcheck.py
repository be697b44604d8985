"""Start-up self-check, run when serving (`flask serve`, gunicorn) — never in create_app() and
never for other CLI commands. Each problem says how to fix it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import instance_secrets

_DEFAULT_KEYS = {b"dev", b"changeme", b"change-me", b"secret", b"development", b"test"}
_LOOPBACK_NAMES = {"localhost", "", None}


@dataclass
class Problem:
    message: str
    fatal_in_development: bool = False


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address (brackets allowed, no port) is this machine."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback  # type: ignore[union-attr]
    except ValueError:
        return False


def problems(app: Flask) -> list[Problem]:
    """Everything that makes this configuration unsafe to serve."""
    found: list[Problem] = []
    if app.debug:
        found.append(Problem("Debug mode is on: it can run code from the browser. Unset "
                             "FLASK_DEBUG (and never pass --debug) when serving."))
    try:
        secrets = instance_secrets.read(app.instance_path)
    except instance_secrets.MissingSecret as exc:
        found.append(Problem(f"{exc}", fatal_in_development=True))
        secrets = None
    key = app.config.get("SECRET_KEY") or (secrets.secret_key if secrets else b"")
    key_bytes = key.encode() if isinstance(key, str) else bytes(key)
    if secrets is not None and (len(key_bytes) < 32 or key_bytes.lower() in _DEFAULT_KEYS):
        found.append(Problem("SECRET_KEY is weak or a well-known default. Remove SECRET_KEY "
                             "from instance/config.py and the environment so the generated "
                             "instance/secret_key (32 random bytes) is used."))
    try:
        url = make_url(app.config["DATABASE_URL"])
    except ArgumentError:
        found.append(Problem("JOURNAL_DATABASE_URL cannot be parsed. Use a form like "
                             "postgresql+psycopg://user:password@host/dbname."))
    else:
        if (not url.drivername.startswith("sqlite") and not url.password
                and not is_loopback(url.host)):
            found.append(Problem(f"The database at {url.host} is reached without a password. "
                                 "Set one in JOURNAL_DATABASE_URL (or use a local socket)."))
    if not app.config.get("ALLOW_WEAK_KDF") and (
            app.config["KDF_MEMORY_KIB"] < 19 * 1024 or app.config["KDF_ITERATIONS"] < 2):
        found.append(Problem("Argon2id parameters are below m=19456 KiB, t=2. Raise "
                             "JOURNAL_KDF_MEMORY_KIB / JOURNAL_KDF_ITERATIONS."))
    return found


def fatal(app: Flask, production: bool) -> list[str]:
    """The problems that must stop the server: all in production, some in development."""
    return [p.message for p in problems(app) if production or p.fatal_in_development]
