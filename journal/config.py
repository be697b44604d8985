"""Typed configuration: defaults, then `instance/config.py`, then JOURNAL_* environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # The database; the embedded default is SQLite inside instance/ (filled in by create_app).
    "DATABASE_URL": None,
    # Argon2id cost. DESIGN 3.1 sets the floor (m = 19 MiB, t = 2); we run well above it.
    "KDF_MEMORY_KIB": 65536,
    "KDF_ITERATIONS": 3,
    "KDF_LANES": 1,
    # Tests lower the cost through test config only; production refuses weak parameters.
    "ALLOW_WEAK_KDF": False,
    "SESSION_IDLE_MINUTES": 20,
    "SESSION_ABSOLUTE_HOURS": 12,
    # last_seen is written at most this often, so a GET changes at most one timestamp a minute.
    "SESSION_TOUCH_SECONDS": 60,
    "INVITATION_DAYS": 7,
    # Counsellors hold everyone's notes: they must add a second step (TOTP) to sign in.
    "REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS": True,
    "MAX_CONTENT_LENGTH": 512 * 1024,
    # Secure cookies work on http://127.0.0.1 and localhost in every current browser.
    # Only a load-test client that drops Secure cookies on plain http needs this off, and
    # off is honoured only for requests to a loopback address (127.0.0.1, ::1, localhost).
    "COOKIE_SECURE": True,
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host. 0 = none:
    # then a forged header from a client is ignored.
    "TRUSTED_PROXIES": 0,
    # Flask's own cookie carries only the CSRF token and flashed messages (never identity).
    "SESSION_COOKIE_NAME": "journal_csrf",
    # No time limit of its own: a page left open (a reflection half written) must still be
    # able to sign in again and save. The token lives as long as Flask's cookie, which
    # carries it (`__Host-` over TLS, so no sibling subdomain can plant one it knows).
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "en",
    # A TrueType/OpenType font (or .ttc) with CJK glyphs for PDF exports; None = look for
    # Noto CJK, WenQuanYi or AR PL fonts in the usual system places.
    "EXPORT_PDF_FONT": None,
    "TESTING": False,
}

# Environment variables that are read, and how each is parsed.
_ENV_PARSERS: dict[str, Any] = {
    "DATABASE_URL": str,
    "KDF_MEMORY_KIB": int,
    "KDF_ITERATIONS": int,
    "KDF_LANES": int,
    "SESSION_IDLE_MINUTES": int,
    "SESSION_ABSOLUTE_HOURS": int,
    "INVITATION_DAYS": int,
    "TRUSTED_PROXIES": int,
    "REDIS_URL": str,
    "EXPORT_PDF_FONT": str,
    "THROTTLE_SIGN_IN_ACCOUNT": str,
    "THROTTLE_SIGN_IN_ADDRESS": str,
    "THROTTLE_SECOND_FACTOR_ACCOUNT": str,
    "THROTTLE_SEARCH_ACCOUNT": str,
    "THROTTLE_PASSPHRASE_CHECK_SESSION": str,
    "THROTTLE_ENABLED": lambda v: v.strip().lower() not in {"0", "false", "no", "off"},
    "COOKIE_SECURE": lambda v: v.strip().lower() not in {"0", "false", "no", "off"},
    "REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS":
        lambda v: v.strip().lower() not in {"0", "false", "no", "off"},
}


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill app.config from defaults, the instance file, the environment, then overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key, parse in _ENV_PARSERS.items():
        raw = os.environ.get(f"JOURNAL_{key}")
        if raw is not None and raw != "":
            app.config[key] = parse(raw)
    if overrides:
        app.config.from_mapping(overrides)
    if not app.config["DATABASE_URL"]:
        db_path = os.path.join(app.instance_path, "journal.db")
        app.config["DATABASE_URL"] = f"sqlite:///{db_path}"
