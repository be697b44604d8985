"""The practice's secrets in instance/: generated once, never overwritten, never in the database.

- secret_key: Flask's SECRET_KEY (CSRF tokens only; it never grants identity, DESIGN 3.5)
- pepper:     HMAC key for login verifiers and lookup values (DESIGN 3.1)
- audit_key:  HMAC key chaining the audit log
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from . import crypto

NAMES = ("secret_key", "pepper", "audit_key")


class MissingSecret(RuntimeError):
    """A secret file is missing while the practice already has users: refuse, never regenerate."""


@dataclass(frozen=True)
class Secrets:
    # Never in a log or an error report: the repr leaves all three out.
    secret_key: bytes = field(repr=False)
    pepper: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)


def _path(instance_path: str, name: str) -> str:
    return os.path.join(instance_path, name)


def missing(instance_path: str) -> list[str]:
    """Names of secret files that do not exist."""
    return [n for n in NAMES if not os.path.exists(_path(instance_path, n))]


def create_missing(instance_path: str, practice_has_users: bool) -> list[str]:
    """Create whichever secret files are missing; refuse if users exist (a restore without keys)."""
    absent = missing(instance_path)
    if absent and practice_has_users:
        raise MissingSecret(
            f"instance/ lacks {', '.join(absent)} but the database already has users. "
            "This looks like a database restored without its instance/ secrets: restore "
            "those files from your secrets backup. New secrets would lock everyone out."
        )
    os.makedirs(instance_path, exist_ok=True)
    for name in absent:
        # O_EXCL: two processes racing here can never overwrite each other's secret.
        fd = os.open(_path(instance_path, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(crypto.random_token(32).hex() + "\n")
    return absent


def read(instance_path: str) -> Secrets:
    """Read all three secrets, or raise MissingSecret naming what is missing."""
    absent = missing(instance_path)
    if absent:
        raise MissingSecret(
            f"instance/ lacks {', '.join(absent)}. Run `flask --app wsgi prepare` on a new "
            "practice, or restore the files from your secrets backup."
        )
    values = {}
    for name in NAMES:
        with open(_path(instance_path, name)) as fh:
            values[name] = bytes.fromhex(fh.read().strip())
    return Secrets(**values)


def load(app: Flask) -> Secrets:
    """The app's secrets, read from instance/ on first use (create_app itself does no I/O)."""
    cached = app.extensions.get("journal_secrets")
    if cached is None:
        cached = app.config.get("SECRETS_OVERRIDE") or read(app.instance_path)
        app.extensions["journal_secrets"] = cached
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = cached.secret_key
    return cached


def pepper() -> bytes:
    """The login pepper of the current app."""
    return load(current_app._get_current_object()).pepper  # type: ignore[attr-defined]


class LazySecretSessionInterface(SecureCookieSessionInterface):
    """Flask opens the cookie session before any before_request hook runs, so SECRET_KEY must
    be read from instance/ here, on first use, rather than in create_app. (security.py
    installs it, with the cookie's name and flags.)"""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        try:
            load(app)
        except MissingSecret:
            # No cookie session then; the request fails in before_request, where the error
            # handler can still render its page (raising here left no session to render with).
            return None
        return super().get_signing_serializer(app)
