"""Flask-Babel: every user-visible string goes through gettext, English for now."""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel


def init_app(app: Flask) -> None:
    """Install Babel; templates get `_()` and `ngettext()`."""
    Babel(app)
