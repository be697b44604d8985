"""Request hooks that make the app safe by default.

- The instance's secrets are loaded before anything else.
- An empty practice leads every page to set-up.
- Sign-in comes from the server-side session row (DESIGN 3.5); login is required for every
  endpoint not on a short allow-list, so a new route is private unless someone decides otherwise.
- CSRF on every state-changing request; strict headers and no-store on every response.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from . import instance_secrets
from .auth import two_factor, web_sessions
from .auth.service import practice_exists
from .db import get_db, insert_unless_present
from .errors import signed_out_while_typing
from .keyring import OWN, Keyring, SessionCopies
from .models import SessionKey, WebSession
from .selfcheck import is_loopback

logger = logging.getLogger(__name__)

# Endpoints anyone may reach. Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = frozenset(
    {"static", "health", "auth.login", "auth.setup", "auth.join", "auth.join_submit",
     "auth.recover", "portal.invite", "portal.invite_submit", "portal.resume"}
)
# While the practice is not set up, only these answer; everything else leads to set-up.
SETUP_ENDPOINTS = frozenset({"static", "health", "auth.setup"})
# Until a user confirms they stored their recovery code, only these answer.
RECOVERY_CODE_ENDPOINTS = frozenset(
    {"static", "health", "auth.recovery_code", "auth.new_recovery_code",
     "auth.confirm_recovery_code", "auth.logout"}
)
# A session whose passphrase is proven but whose second step (TOTP) is not reaches only these.
SECOND_FACTOR_ENDPOINTS = frozenset({"static", "health", "auth.second_factor", "auth.logout"})
# A counsellor who must use two-step sign-in but has not set it up reaches only these.
TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {"static", "health", "auth.two_factor_page", "auth.start_two_factor",
     "auth.confirm_two_factor", "auth.backup_codes_stored", "auth.logout"}
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

csrf = CSRFProtect()
login_manager = LoginManager()


def cookies_secure() -> bool:
    """Whether this response's cookies are Secure: always, except with COOKIE_SECURE off for
    a request to a loopback address over plain http (a load tool that drops Secure cookies)."""
    if current_app.config["COOKIE_SECURE"] or request.is_secure:
        return True  # every request of a normal deployment: no host to parse
    host = request.host if request.host.endswith("]") else request.host.rsplit(":", 1)[0]
    return not is_loopback(host)


class _FlaskCookie(instance_secrets.LazySecretSessionInterface):
    """Flask's own cookie (the CSRF token and flashed messages) follows the sign-in cookie's
    rules whatever the configuration: Secure as `cookies_secure` says, path / and no Domain,
    and `__Host-` over TLS, so that the browser takes it only from this host and no sibling
    subdomain can plant a CSRF token it knows."""

    def get_cookie_name(self, app: Flask) -> str:
        name = super().get_cookie_name(app)
        return f"__Host-{name}" if has_request_context() and request.is_secure else name

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookies_secure() if has_request_context() else True

    def get_cookie_path(self, app: Flask) -> str:
        return "/"

    def get_cookie_domain(self, app: Flask) -> None:
        return None


def session_cookie_name() -> str:
    """`__Host-` prefixed over TLS (the browser then pins it to this host, path / and Secure)."""
    return "__Host-journal" if request.is_secure else "journal"


def timeouts() -> web_sessions.Timeouts:
    cfg = current_app.config
    return web_sessions.Timeouts(
        idle=timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]),
        touch_every=timedelta(seconds=cfg["SESSION_TOUCH_SECONDS"]),
    )


def is_safe_next(target: str | None) -> bool:
    """Only a local path may be the target of a redirect after sign-in."""
    # Browsers drop tabs and newlines and treat "\\" like "/", so "/\t/evil.example" and
    # "///evil.example" would lead off-site although urlsplit finds no host in the latter.
    if not target or target.startswith("//") or any(ch < " " or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/")


def _practice_ready() -> bool:
    # Set-up happens once and never reverses, so a positive answer may be remembered.
    if current_app.extensions.get("journal_practice_ready"):
        return True
    ready = practice_exists(get_db())
    current_app.extensions["journal_practice_ready"] = ready
    return ready


def _before_request() -> ResponseReturnValue | None:
    endpoint = request.endpoint or ""
    if endpoint in ("static", "health"):
        return None
    if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS"):
        # No page takes JSON, and Flask-WTF would read a JSON body as the form: a list, a
        # string or a number there is a TypeError (a 500), so refuse it kindly instead.
        abort(400)
    instance_secrets.load(current_app._get_current_object())  # type: ignore[attr-defined]
    if not _practice_ready():
        return None if endpoint in SETUP_ENDPOINTS else redirect(url_for("auth.setup"))
    db = get_db()
    cookie = request.cookies.get(session_cookie_name())
    signed_in = web_sessions.resume(db, cookie, timeouts())
    if signed_in is not None and signed_in.second_factor_pending:
        # Not signed in yet: no current_user, no keyring, one page (and sign-out). The
        # second-step page alone opens the TOTP secret, with g.second_factor_pending.
        g.signed_in = None
        g.second_factor_pending = signed_in
        if endpoint in SECOND_FACTOR_ENDPOINTS:
            return None
        return redirect(url_for("auth.second_factor"))
    g.signed_in = signed_in
    if signed_in is not None:
        g.keyring = Keyring(db, signed_in.user, signed_in.private_key,
                            SessionCopies(signed_in.session_id, signed_in.session_key))
        g.keyring.add_copies(OWN, signed_in.own_key_copies)
    elif cookie:
        g.clear_session_cookie = True
        if endpoint not in PUBLIC_ENDPOINTS:
            flash(_("For your privacy you were signed out after a while without activity. "
                    "Please sign in again."), "info")
    if signed_in is None and endpoint not in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            # Never drop what someone typed because their session ended meanwhile.
            return signed_out_while_typing()
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target.rstrip("?") if target else None))
    if signed_in is not None and not signed_in.user.recovery_confirmed:
        # The recovery code first; the two-step set-up comes after it.
        if endpoint in RECOVERY_CODE_ENDPOINTS:
            return None
        return redirect(url_for("auth.recovery_code"))
    if (signed_in is not None and not two_factor.is_on(signed_in.user)
            and two_factor.is_required(signed_in.user,
                                       bool(current_app.config[
                                           "REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS"]))
            and endpoint not in TWO_FACTOR_SETUP_ENDPOINTS):
        return redirect(url_for("auth.two_factor_page"))
    return None


def _keep_opened_keys(exc: BaseException | None) -> None:
    """Store sealed copies of the keys this request opened from their wraps, so the session's
    next pages open them with AES-GCM (keyring.py). Its own short transaction, after the
    view: whatever the view left uncommitted is rolled back first, as teardown would."""
    keyring = g.get("keyring")
    db = g.get("db")
    if exc is not None or keyring is None or db is None:
        return
    copies = keyring.fresh_copies()
    if not copies:
        return
    session_id, user_id = keyring.session_id, keyring.user.id
    # Where the view only read, no transaction is open on the server (db.py): this rollback
    # sends nothing, and psycopg keeps its prepared statements.
    db.rollback()
    try:
        conn = db.connection()
        own = {web_sessions.OWN_KEY_COLUMNS[purpose]: sealed
               for case_id, purpose, sealed in copies if case_id == OWN}
        if own:
            conn.execute(update(WebSession).where(WebSession.id == session_id).values(**own))
        rows = [{"session_id": session_id, "case_id": case_id, "purpose": purpose,
                 "user_id": user_id, "key_sealed": sealed}
                for case_id, purpose, sealed in copies if case_id != OWN]
        if rows:
            # Another tab may have stored a copy first: that one stays.
            conn.execute(insert_unless_present(conn, SessionKey.__table__, "session_id",
                                               "case_id", "purpose"), rows)
        db.commit()
    except SQLAlchemyError:
        # The session ended or the case was erased meanwhile (the foreign keys refuse the
        # copy), or the database is busy: the keys are opened from their wraps next time.
        db.rollback()
        logger.info("kept no copies of opened keys this time")


def set_session_cookie(value: str) -> None:
    """Ask the response to carry a new sign-in cookie."""
    g.new_session_cookie = value


def clear_session_cookie() -> None:
    """Ask the response to remove the sign-in cookie."""
    g.clear_session_cookie = True


def _after_request(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    secure = cookies_secure()
    if g.get("new_session_cookie"):
        response.set_cookie(session_cookie_name(), g.new_session_cookie, httponly=True,
                            secure=secure, samesite="Strict", path="/")
    elif g.get("clear_session_cookie"):
        response.delete_cookie(session_cookie_name(), path="/", secure=secure, httponly=True,
                               samesite="Strict")
    return response


def init_app(app: Flask) -> None:
    """CSRF, Flask-Login from the session row, the allow-list, headers on every response."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.session_interface = _FlaskCookie()
    # Referrer-Policy: no-referrer means browsers send no Referer, which Flask-WTF's strict
    # HTTPS check would demand. SameSite=Strict cookies plus the token already bind the form.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    # Every POST is checked here, whatever a configuration file says: the note and reflection
    # saves bind no form of their own to check the token again (cases/forms.PostedNote,
    # portal/routes.py), and every other form's own check defers to this one.
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["WTF_CSRF_CHECK_DEFAULT"] = True
    csrf.init_app(app)
    login_manager.init_app(app)
    # Identity comes from the session row only; Flask-Login must not write into the cookie.
    login_manager.session_protection = None
    login_manager.request_loader(
        lambda _request: g.signed_in.user if g.get("signed_in") else None
    )
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_keep_opened_keys)

    @app.get("/health")
    def health() -> tuple[str, int, dict[str, str]]:
        # Unhealthy when the instance secrets are missing: every real page would fail.
        try:
            instance_secrets.load(app)
        except instance_secrets.MissingSecret:
            return "instance secrets missing", 503, {"Content-Type": "text/plain"}
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
