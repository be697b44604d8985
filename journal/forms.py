"""The base of every form: Flask-WTF's FlaskForm, with its CSRF token made when shown.

WTForms gives each form its CSRF token when the form is built, and Flask-WTF's token is a
freshly signed, time-stamped value (~50 µs). A form that is only read (a POST that succeeds
and redirects) never shows it, and CSRFProtect has already checked the one that was sent, so
the token here is a lazy string, signed the first time a template renders the field.
Checking is unchanged: CSRFProtect on every state-changing request, and the form's own check
(Flask-WTF's, which defers to CSRFProtect's) as before.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from werkzeug.datastructures import MultiDict


class _TokenWhenShown(_FlaskFormCSRF):
    def generate_csrf_token(self, csrf_token_field: object) -> LazyString:
        return LazyString(generate_csrf, self.meta.csrf_secret, self.meta.csrf_field_name)


def expected_version(form: MultiDict) -> int:
    """The edit version a posted form names (its hidden edit_version field), or -1 when it
    names none: a save that names no version is a conflict, never an overwrite."""
    raw = form.get("edit_version", "")
    return int(raw) if raw.isdecimal() and len(raw) < 10 else -1


class JournalForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        csrf_class = _TokenWhenShown
