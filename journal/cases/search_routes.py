"""Search across the counsellor's notes and reflections (same blueprint).

The query is clinical text, so it travels only in a POST body (never a URL, so never a server
log, the browser history or a Referer), is echoed back only in the no-store response, and is
neither flashed nor audited: the audit log records that a search happened, not what for.
A search opens every note of every case, so each POST counts against a per-account limit
(throttle.py, THROTTLE_SEARCH_ACCOUNT; the kind 429 page), keyed by HMAC of the user id.
"""

from __future__ import annotations

from flask import g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SearchField
from wtforms.validators import Length

from .. import audit
from ..db import get_db
from ..forms import JournalForm
from . import search as search_service
from .errors import InvalidChange
from .routes import bp


def _stripped(value: str | None) -> str:
    return (value or "").strip()


class SearchForm(JournalForm):
    query = SearchField(
        _l("A word or phrase"),
        filters=[_stripped],
        validators=[
            Length(min=search_service.MIN_QUERY_CHARS,
                   message=_l("Please type at least two characters — a word, or part of one.")),
            Length(max=search_service.MAX_QUERY_CHARS,
                   message=_l("That is longer than a search can take. A few words, up to 200 "
                              "characters, work best.")),
        ],
        description=_l("Every word you type must appear. Capital letters don’t matter."),
        # No browser form history (it would keep clinical words on the device) and no
        # cloud spell-check of what is typed.
        render_kw={"placeholder": _l("A word or phrase from a note or reflection"),
                   "maxlength": search_service.MAX_QUERY_CHARS, "autocomplete": "off",
                   "spellcheck": "false"},
    )


@bp.route("/search", methods=["GET", "POST"])
def search() -> ResponseReturnValue:
    """GET: the empty form. POST: the results, rendered in the response and kept nowhere."""
    form = SearchForm()
    results = None
    if form.validate_on_submit():
        db = get_db()
        me = g.keyring.user
        try:
            results = search_service.search_casework(db, g.keyring, me, form.query.data)
        except InvalidChange:  # the form checks the same bounds; this is only a backstop
            form.query.errors = [_("Please try a word or phrase of 2 to 200 characters.")]
            return render_template("cases/search.html", form=form, results=None), 400
        # That a search ran is accountable (it opens every case); what was searched is not kept.
        audit.record(db, "casework.searched", actor_id=me.id, object_type="user",
                     object_id=me.id)
        db.commit()
    return render_template("cases/search.html", form=form, results=results), (
        400 if form.errors else 200)
