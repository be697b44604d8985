"""Forms of the client's side. Reflection fields are read by hand: answers vary per case."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from ..forms import JournalForm
from ..models import is_id
from .reflections import PROMPTS, ReflectionContent

PROMPT_LABELS = {
    "stood_out": _l("What stood out for you since our last session?"),
    "helped": _l("What helped?"),
    "hard": _l("What was hard?"),
    "for_counsellor": _l("Is there anything you'd like your counsellor to know before next "
                         "time?"),
}
RATING_LABELS = {
    "week_rating": (_l("How has your week been, overall?"), _l("really hard"),
                    _l("really good")),
    "session_rating": (_l("How did our last session feel for you?"), _l("not helpful"),
                       _l("very helpful")),
}


class ReflectionForm(JournalForm):
    """CSRF and the edit version; the text fields are parsed by content_from()."""

    edit_version = HiddenField()


def content_from(form: MultiDict) -> ReflectionContent:
    """A ReflectionContent from posted fields; unknown keys are ignored, bad ratings dropped."""
    content = ReflectionContent(**{p: form.get(p, "") for p in PROMPTS})
    for key, value in form.items():
        if key.startswith("answer_") and is_id(key[len("answer_"):]):
            content.answers[key[len("answer_"):]] = value
    for rating in RATING_LABELS:
        raw = form.get(rating, "")
        skipped = form.get(f"{rating}_skip")
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if not skipped and raw.isdecimal() and len(raw) <= 2 and 0 <= int(raw) <= 10:
            setattr(content, rating, int(raw))
    return content

