"""Flask-Babel: every user-visible string goes through gettext, English for now."""

from __future__ import annotations

import functools
from typing import Any

import flask
from babel import support
from flask import Flask
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.utils import cached_property

# The name under which each render carries its translations (see init_app).
_KEY = "_journal_translations"


def _translations(context: Context) -> Any:
    # An imported macro's context lacks the render's variables: ask Flask-Babel then.
    return context.get(_KEY) or get_translations()


def _finish(context: Context, text: str, variables: dict[str, Any]) -> str:
    # As Jinja's "newstyle" gettext: the translation is markup, the variables are escaped
    # into it, and "%%" in a message is a "%".
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our own message (msgid or its translation), as Jinja does
    return text % variables if variables or "%" in text else text


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    return _finish(context, _translations(context).ugettext(message), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _finish(context, _translations(context).ungettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str, **variables: Any) -> str:
    return _finish(context, _translations(context).upgettext(msgctxt, message), variables)


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, num: int,
               **variables: Any) -> str:
    variables.setdefault("num", num)
    return _finish(context, _translations(context).unpgettext(msgctxt, singular, plural, num),
                   variables)


@functools.cache
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Request(flask.Request):
    """Flask-WTF looks for `request.wtforms_translations` before it reads WTForms' message
    catalogue from disk (for every request with a form). Here it is found, per locale, in a
    process-wide cache of that static file — and only when a form asks."""

    @cached_property
    def wtforms_translations(self) -> support.NullTranslations:
        return _wtforms_catalogue(str(get_locale()))


def init_app(app: Flask) -> None:
    """Install Babel; templates get `_()`, `gettext()`, `ngettext()` and friends.

    Two costs measured on a 50-row page, both for catalogues that never change while the
    process runs:
    - Flask-WTF reads WTForms' catalogue from disk for every request with a form (see Request).
    - Flask-Babel's template callables find the request context anew for every string, and
      Jinja's newstyle wrappers add two more calls: ~20 µs a string, ~160 strings a page.
      Here each render looks its translations up once, and `_()` is one call that formats
      exactly as the newstyle callables do.
    """
    Babel(app)
    app.request_class = Request
    callables = {"gettext": _gettext, "ngettext": _ngettext, "pgettext": _pgettext,
                 "npgettext": _npgettext}
    app.jinja_env.install_gettext_callables(newstyle=True, **callables)  # type: ignore[attr-defined]
    # The extension installed `_` as an alias that calls `gettext` through the context;
    # the functions themselves are cheaper and behave the same.
    app.jinja_env.globals.update(_=_gettext, **callables)
    app.context_processor(lambda: {_KEY: get_translations()})
