"""Kind error pages for every status we answer with; never internals, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as werkzeug_NotFound

from .cases.errors import NotFound as CaseNotFound

log = logging.getLogger(__name__)

# Form fields never echoed back on the "please try again" page.
_SECRET_FIELDS = ("passphrase", "password", "code", "secret", "csrf_token", "confirm", "current")


def kept_fields() -> list[tuple[str, str]]:
    """What the person typed into a rejected form, minus secrets, so nothing is lost."""
    try:
        items = request.form.items(multi=True)
        return [
            (name, value) for name, value in items
            if value.strip() and not any(s in name.lower() for s in _SECRET_FIELDS)
        ][:40]
    except Exception:  # noqa: BLE001 - an unreadable body just means nothing to keep
        return []


def _render(status: int, title: str, message: str, **extra: object) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, message=message,
                           **extra), status


def signed_out_while_typing() -> tuple[str, int]:
    """A form posted after the session ended: show what was typed so it can be saved again."""
    return _render(401, _("You were signed out while you were writing"),
                   _("For your privacy, sessions end after a while without activity. Nothing "
                     "new was saved. Your words are below — copy them, sign in again in a new "
                     "tab, and paste them back."), kept=kept_fields(), sign_in=True)


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return _render(400, _("This page had gone stale"),
                   _("For your safety, a form works only in the browser session that showed "
                     "it, and that session has ended (for example, the browser was closed). "
                     "Nothing was saved. Anything you typed is shown below so you can copy it "
                     "into the form again."), kept=kept_fields())


def _http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    messages = {
        400: (_("Something in that request didn't make sense"),
              _("Please go back and try again.")),
        404: (_("We couldn't find that page"),
              _("It may have moved, or it may not be yours to see. Try your dashboard.")),
        405: (_("That doesn't work here"), _("Please go back and use the page's own buttons.")),
        413: (_("That was more than we can take in one go"),
              _("The text was too long to save at once. Please go back — your browser "
                "usually keeps what you typed — and save it in smaller parts.")),
        429: (_("Let's pause for a moment"),
              _("There were too many attempts. Please wait a minute and try again.")),
    }
    title, message = messages.get(status, (_("Something went wrong"), exc.description or ""))
    if status == 429:
        from .throttle import seconds_until_retry

        minutes = max(1, round(seconds_until_retry() / 60))
        message = ngettext("There were too many attempts. Please try again in about "
                           "%(num)d minute. Other people are not affected.",
                           "There were too many attempts. Please try again in about "
                           "%(num)d minutes. Other people are not affected.", minutes)
    kept = kept_fields() if status != 413 else []
    return _render(status, title, message, kept=kept)


def _server_error(exc: Exception) -> tuple[str, int]:
    if current_app.testing and not current_app.config.get("RENDER_SERVER_ERRORS"):
        raise exc
    db = g.get("db")
    if db is not None:
        db.rollback()
    # Log the type and where, never the request body: it may hold clinical text.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.endpoint)
    return _render(500, _("Something went wrong on our side"),
                   _("Nothing you saved before is affected. Please try again in a moment."))


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # A service's "not among your cases" is the same 404 as a page that does not exist.
    app.register_error_handler(CaseNotFound, lambda _exc: _http_error(werkzeug_NotFound()))
    app.register_error_handler(Exception, _server_error)
