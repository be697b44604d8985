"""Throttling per account, sign-in or address (Flask-Limiter), never global: sign-in, recovery,
invitations, the second step and the account pages' passphrase checks against guessing;
search (which opens every case) against one account keeping a worker busy.

Counters live in Redis when JOURNAL_REDIS_URL is set, otherwise in the database
(`throttle_counters`), so every gunicorn worker — and every host on PostgreSQL — shares them.
Keys are HMAC(pepper, value): the store never holds an address or a login name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits.storage import Storage
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import crypto, instance_secrets
from .auth.context import passphrase_was_wrong
from .auth.service import login_lookup
from .db import engine_for, get_db
from .models import ThrottleCounter, User

# Configurable limits. Sign-in counts only failures, so a person signing in often is never
# locked out; an attacker guessing one account is slowed, and one address cannot try many.
DEFAULTS = {
    "THROTTLE_SIGN_IN_ACCOUNT": "5 per 5 minutes",
    "THROTTLE_SIGN_IN_ADDRESS": "30 per 5 minutes",
    "THROTTLE_RECOVERY_ACCOUNT": "5 per hour",
    # Wrong TOTP or backup codes, per account: six digits must not be guessable.
    "THROTTLE_SECOND_FACTOR_ACCOUNT": "5 per 5 minutes",
    "THROTTLE_RECOVERY_ADDRESS": "20 per hour",
    "THROTTLE_INVITATION_ADDRESS": "20 per hour",
    # Searching opens every note of every case (~0.3 s of CPU each): enough for someone
    # refining a query quickly, not for one account to keep a worker busy.
    "THROTTLE_SEARCH_ACCOUNT": "30 per minute;300 per hour",
    # Wrong current passphrases on the account pages (change it, new recovery code, new
    # backup codes, two-step off), per sign-in session: a borrowed or stolen session must
    # not be a way to guess the passphrase, nor to run Argon2id (64 MiB) without end.
    "THROTTLE_PASSPHRASE_CHECK_SESSION": "5 per 5 minutes",
    "THROTTLE_ENABLED": True,
    "REDIS_URL": None,
    # Keeps tests and several journals on one Redis apart.
    "RATELIMIT_KEY_PREFIX": "journal",
}


class SqlStorage(Storage):
    """A fixed-window `limits` storage on the journal's own database."""

    STORAGE_SCHEME = ["journal-sql"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: Any) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self._engine_of: Callable[[], Any] = options["engine_of"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return Exception

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = ThrottleCounter.__table__
        with self._engine_of().begin() as conn:
            row = conn.execute(
                update(table).where(table.c.key == key, table.c.expires_at > now)
                .values(count=table.c.count + amount).returning(table.c.count)).first()
            if row is not None:
                return int(row[0])
            # Expired or new: start a new window (a racing insert simply retries as an update).
            conn.execute(delete(table).where(table.c.key == key, table.c.expires_at <= now))
            try:
                with conn.begin_nested():
                    conn.execute(insert(table).values(key=key, count=amount,
                                                      expires_at=now + expiry))
                return amount
            except IntegrityError:
                row = conn.execute(update(table).where(table.c.key == key)
                                   .values(count=table.c.count + amount)
                                   .returning(table.c.count)).first()
                return int(row[0]) if row else amount

    def _row(self, key: str) -> Any:
        table = ThrottleCounter.__table__
        with self._engine_of().connect() as conn:
            return conn.execute(select(table.c.count, table.c.expires_at)
                                .where(table.c.key == key)).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row[0]) if row is not None and row[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row[1]) if row is not None and row[1] > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._engine_of().begin() as conn:
            return conn.execute(delete(ThrottleCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with self._engine_of().begin() as conn:
            conn.execute(delete(ThrottleCounter.__table__)
                         .where(ThrottleCounter.__table__.c.key == key))


def _hashed(purpose: str, value: str) -> str:
    pepper = instance_secrets.load(current_app._get_current_object()).pepper  # type: ignore[attr-defined]
    return crypto.lookup_value(pepper, f"throttle/{purpose}", value).hex()[:40]


def by_address() -> str:
    """The client's address, as HMAC(pepper, address)."""
    return "a:" + _hashed("address", request.remote_addr or "-")


def by_account() -> str:
    """The login name being tried, as HMAC(pepper, normalised name)."""
    return "u:" + _hashed("account", request.form.get("login_name", "")[:64])


def by_second_factor_account() -> str:
    """The account whose second step is tried, as HMAC(pepper, user id)."""
    pending = g.get("second_factor_pending")
    if pending is not None:
        user_id = pending.user.id
    else:
        # portal.resume takes passphrase and code together: find the account by its name.
        name = request.form.get("login_name", "")[:64]
        pepper = instance_secrets.load(current_app._get_current_object()).pepper  # type: ignore[attr-defined]
        found = get_db().scalar(select(User.id).where(User.login_lookup
                                                      == login_lookup(pepper, name)))
        user_id = found or "name|" + name
    return "t:" + _hashed("second-factor", user_id)


def by_signed_in_account() -> str:
    """The signed-in user, as HMAC(pepper, user id); the address if nobody is signed in (the
    sign-in gate in security.py answers such requests before any view)."""
    signed_in = g.get("signed_in")
    if signed_in is None:
        return by_address()
    return "s:" + _hashed("signed-in-account", signed_in.user.id)


def by_signed_in_session() -> str:
    """The sign-in session (its row's id), as HMAC(pepper, id); the address if nobody is
    signed in. Per session rather than per account: someone holding a stolen session gets
    as few guesses, but cannot use them up for the account's owner, whose own session keeps
    its budget for changing the passphrase (sessions are made only with the passphrase)."""
    signed_in = g.get("signed_in")
    if signed_in is None:
        return by_address()
    return "w:" + _hashed("signed-in-session", signed_in.session_id)


def failed(response: Any) -> bool:
    """Only failures count for sign-in: a redirect or a JSON ok means it worked."""
    return response.status_code not in (302, 303) and not (
        response.is_json and (response.get_json(silent=True) or {}).get("ok"))


def limit(name: str) -> str:
    """A limit string from config, read when a request is checked."""
    return current_app.config[f"THROTTLE_{name}"]


# Endpoint -> (config name, key function, shared scope, which responses count: None for
# all). Scopes are shared, so signing in from the page and from a timed-out reflection draw
# on one budget, and the four account pages that ask for the passphrase on another.
_Counted = Callable[[Any], bool] | None
_PASSPHRASE_CHECK = [("PASSPHRASE_CHECK_SESSION", by_signed_in_session,
                      "passphrase-check-session", passphrase_was_wrong)]
_RULES: dict[str, list[tuple[str, Callable[[], str], str, _Counted]]] = {
    "auth.login": [("SIGN_IN_ACCOUNT", by_account, "sign-in-account", failed),
                   ("SIGN_IN_ADDRESS", by_address, "sign-in-address", failed)],
    "portal.resume": [("SIGN_IN_ACCOUNT", by_account, "sign-in-account", failed),
                      ("SIGN_IN_ADDRESS", by_address, "sign-in-address", failed),
                      ("SECOND_FACTOR_ACCOUNT", by_second_factor_account,
                       "second-factor-account", failed)],
    "auth.second_factor": [("SECOND_FACTOR_ACCOUNT", by_second_factor_account,
                            "second-factor-account", failed)],
    "auth.recover": [("RECOVERY_ACCOUNT", by_account, "recovery-account", None),
                     ("RECOVERY_ADDRESS", by_address, "recovery-address", None)],
    "auth.setup": [("INVITATION_ADDRESS", by_address, "invitation-address", None)],
    "auth.join_submit": [("INVITATION_ADDRESS", by_address, "invitation-address", None)],
    "portal.invite_submit": [("INVITATION_ADDRESS", by_address, "invitation-address", None)],
    # Every search counts, found or not (the query itself is never part of a key).
    "cases.search": [("SEARCH_ACCOUNT", by_signed_in_account, "search-account", None)],
    "auth.change_passphrase": _PASSPHRASE_CHECK,
    "auth.new_recovery_code": _PASSPHRASE_CHECK,
    "auth.new_backup_codes": _PASSPHRASE_CHECK,
    "auth.turn_off_two_factor": _PASSPHRASE_CHECK,
}


def limiter_of(app: Flask) -> Limiter:
    """This app's limiter (one per app: tests and workers never share counters by accident)."""
    return app.extensions["journal_limiter"]


def seconds_until_retry() -> int:
    """How long the person who just hit a limit should wait."""
    current = limiter_of(current_app._get_current_object()).current_limit  # type: ignore[attr-defined]
    return max(1, int(current.reset_at - time.time())) if current else 60


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered: wraps the throttled views of this app."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config["RATELIMIT_ENABLED"] = bool(app.config["THROTTLE_ENABLED"])
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    if app.config["REDIS_URL"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    else:
        app.config["RATELIMIT_STORAGE_URI"] = "journal-sql://"
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"engine_of": lambda: engine_for(app)}
    limiter = Limiter(key_func=by_address, app=app)
    app.extensions["journal_limiter"] = limiter
    # Only the views below carry limits (there are no default, application or blueprint
    # limits). Flask-Limiter still looks for some on every request, ~50 µs on a blueprint's
    # page; the filter tells it at once that any other endpoint has none.
    limiter.request_filter(lambda: request.endpoint not in _RULES)
    for endpoint, rules in _RULES.items():
        view = app.view_functions[endpoint]
        for name, key_func, scope, counted in rules:
            view = limiter.shared_limit(
                lambda name=name: limit(name), scope=scope, key_func=key_func,
                methods=["POST"], deduct_when=counted,
            )(view)
        app.view_functions[endpoint] = view
