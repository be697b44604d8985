"""Forms of the export pages. Which flagged terms to hide is read from the checkbox list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..forms import JournalForm

FORMAT_CHOICES = [SelectChoice("pdf", _l("PDF — to print or attach")),
                  SelectChoice("md", _l("Markdown — plain text you can edit")),
                  SelectChoice("json", _l("JSON — structured data (see docs/EXPORT.md)"))]
_CONFIRM = _l("Please look for this before exporting.")


class ReviewForm(JournalForm):
    extra_terms = TextAreaField(
        _l("Also hide these words"), validators=[Optional(), Length(max=20_000)],
        description=_l("One per line: anything else that could point to the client — a "
                       "nickname, a street, a team, a rare hobby."))
    format = RadioField(_l("Format"), choices=FORMAT_CHOICES, default="pdf",
                        validators=[InputRequired()])
    checked_job = BooleanField(_l("A rare job, role or employer is hidden or made general "
                                  "(\"a nurse\", not \"the only midwife in town\")."))
    checked_place = BooleanField(_l("Small towns, schools, clinics and clubs are hidden."))
    checked_event = BooleanField(_l("No unusual event (a court case, an accident in the "
                                    "news, a rare illness) could point to the client."))


class ClientCopyForm(JournalForm):
    format = RadioField(_l("Format"), choices=FORMAT_CHOICES, default="pdf",
                        validators=[InputRequired()])
    include_notes = BooleanField(_l("Include my session notes, the people map and question "
                                    "outcomes"),
                                 description=_l("Only if you have decided to share them: in "
                                                "some places clients have a right to their "
                                                "notes."))
