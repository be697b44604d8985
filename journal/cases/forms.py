"""Forms of the counsellor side."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..forms import JournalForm, expected_version
from ..models import ATTENDED, CANCELLED, DID_NOT_ATTEND, SCHEDULED
from .notes import MAX_REASON_CHARS, MAX_SECTION_CHARS, TEMPLATE_NAMES, TEMPLATES, section_keys
from .people import MAX_NAME_CHARS, MAX_RELATION_CHARS
from .questions import MAX_OUTCOME_CHARS, MAX_QUESTION_CHARS

_REQUIRED = _l("Please fill this in.")
ATTENDANCE_CHOICES = [
    SelectChoice(SCHEDULED, _l("Scheduled")),
    SelectChoice(ATTENDED, _l("Attended")),
    SelectChoice(CANCELLED, _l("Cancelled")),
    SelectChoice(DID_NOT_ATTEND, _l("Did not attend")),
]
STATE_LABELS = {
    "open": _l("Open"), "answered": _l("Answered"), "resolved": _l("Resolved"),
    "parked": _l("Parked"),
}


EARLIEST_YEAR = 1900  # no session or birth date in a client's record comes before it


class PlausibleDate:
    """A date someone could mean: from 1900 to the end of the year `years_ahead` from now
    (0: not after today). Without it, 9999-12-31 was accepted, and a page that works out
    the day after a session's date could not show that case."""

    def __init__(self, years_ahead: int) -> None:
        self.years_ahead = years_ahead

    def __call__(self, _form: Any, field: Any) -> None:
        if field.data is None:
            return
        today = date.today()
        latest = today if not self.years_ahead else date(today.year + self.years_ahead, 12, 31)
        if not date(EARLIEST_YEAR, 1, 1) <= field.data <= latest:
            if not self.years_ahead:
                raise ValidationError(_("Please check this date: it should be between "
                                        "1900 and today."))
            raise ValidationError(_("Please check this date: it should be between 1900 and "
                                    "the end of %(year)d.", year=latest.year))


class MinutesField(IntegerField):
    """A whole number of minutes. Anything longer than four digits is no length of a
    session, and WTForms' NumberRange cannot even compare a few hundred digits (it turns
    them into a float first, a 500): it is left empty here, for the range check to refuse
    kindly."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and len(str(valuelist[0]).strip()) > 4:
            self.data = None
            return
        super().process_formdata(valuelist)


class ClientForm(JournalForm):
    name = StringField(_l("Client's name"), validators=[DataRequired(_REQUIRED), Length(max=200)],
                       description=_l("Encrypted; only you can read it."))
    preferred_name = StringField(_l("Preferred name"), validators=[Optional(), Length(max=200)],
                                 description=_l("Optional. What they like to be called."))
    aliases = StringField(
        _l("Other names"), validators=[Optional(), Length(max=500)],
        description=_l("Optional. Nicknames or other spellings, separated by commas — the "
                       "anonymised summary hides these too."))
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional(), PlausibleDate(0)],
                              description=_l("Optional."))
    contact = TextAreaField(_l("Contact"), validators=[Optional(), Length(max=1000)],
                            description=_l("Optional. Phone, email, or how they prefer to be "
                                           "reached."))


class SessionForm(JournalForm):
    held_on = DateField(_l("Date"), validators=[InputRequired(_REQUIRED), PlausibleDate(5)])
    duration_minutes = MinutesField(
        _l("Length in minutes"), default=50,
        validators=[InputRequired(_REQUIRED), NumberRange(
            min=5, max=600, message=_l("Please give the length in minutes, from 5 to 600."))])
    attendance = SelectField(_l("Attendance"), choices=ATTENDANCE_CHOICES, default=ATTENDED)


class StartNoteForm(JournalForm):
    template = SelectField(_l("Template"), default="narrative",
                           choices=[SelectChoice(k, v) for k, v in TEMPLATE_NAMES.items()])
    from_last = BooleanField(_l("Start from my last note (same structure)"))


class NoteForm(JournalForm):
    """Sections are added per template by the route (they differ between templates)."""

    edit_version = HiddenField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason for the amendment"),
                           validators=[Optional(), Length(max=MAX_REASON_CHARS)],
                           description=_l("Required when changing a signed note."))
    confirm_sign = BooleanField(_l("I have read this note and want to sign it. "
                                   "After signing it can only be amended, with a reason."))


@functools.cache
def _note_form_class(template: str) -> type[NoteForm]:
    # A form class per template, built once: building one costs more than a note's
    # encryption. The labels stay lazy strings, translated when a page shows them.
    class _Form(NoteForm):
        pass

    for key, label in TEMPLATES[template]:
        setattr(_Form, f"section_{key}", TextAreaField(
            label, validators=[Optional(), Length(max=MAX_SECTION_CHARS)],
            render_kw={"rows": 8, "maxlength": MAX_SECTION_CHARS}))
    return _Form


@dataclass(frozen=True)
class PostedNote:
    """A note form as posted, read by hand. Saving is the counsellor's most frequent write, and
    binding the WTForms form to it cost ~0.19 ms, about as much as sealing and auditing the
    note together. The rules are the services' (section and reason lengths, a reason for an
    amendment, the edit version); a save they refuse shows the WTForms form again, with its
    messages."""

    sections: dict[str, str]
    expected_version: int
    action: str
    reason: str
    confirm_sign: bool


def posted_note(form: MultiDict, template: str) -> PostedNote:
    """What a note form sent, for a note of this template."""
    return PostedNote(
        sections={key: form.get(f"section_{key}", "") for key in section_keys(template)},
        expected_version=expected_version(form),
        action=form.get("action", "save"),
        reason=form.get("reason", ""),
        confirm_sign=form.get("confirm_sign", "") not in BooleanField.false_values,
    )


def note_sections_form(template: str, data: dict[str, str] | None = None,
                       **kwargs: object) -> NoteForm:
    """A NoteForm with one text area per section of the note template."""
    form_class = _note_form_class(template)
    return form_class(data={f"section_{k}": v for k, v in (data or {}).items()}, **kwargs)


class QuestionForm(JournalForm):
    text = TextAreaField(
        _l("An open question from this session"),
        validators=[DataRequired(_REQUIRED), Length(max=MAX_QUESTION_CHARS)],
        description=_l("The client will see it as an invitation, e.g. “What would it look "
                       "like to say no to your manager?”"),
        render_kw={"rows": 2, "maxlength": MAX_QUESTION_CHARS})


class MoveQuestionForm(JournalForm):
    to_state = SelectField(_l("Move to"),
                           choices=[SelectChoice(k, v) for k, v in STATE_LABELS.items()])
    outcome = StringField(_l("Outcome (optional, only you see it)"),
                          validators=[Optional(), Length(max=MAX_OUTCOME_CHARS)])
    session_id = HiddenField()


class PersonForm(JournalForm):
    name = StringField(_l("Name"), validators=[DataRequired(_REQUIRED),
                                               Length(max=MAX_NAME_CHARS)])
    relation = StringField(_l("Relation to the client"),
                           validators=[Optional(), Length(max=MAX_RELATION_CHARS)],
                           description=_l("For example sister, manager, 妻子."))


class EraseForm(JournalForm):
    pseudonym = StringField(_l("Type the case's pseudonym to confirm"),
                            validators=[DataRequired(_REQUIRED), Length(max=20)],
                            render_kw={"autocomplete": "off"})
