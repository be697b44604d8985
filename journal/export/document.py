"""A case summary as plain data (the JSON export) — one builder for both flavours.

`to_data()` walks a `CaseSummary` in a fixed order and passes every free text through
`text_of(where, text)`: the identity for the client's own copy, the anonymiser for the
supervision copy. The schema is documented in docs/EXPORT.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from .summary import CaseSummary

SCHEMA = "counselling-journal/case-summary"
SCHEMA_VERSION = 1
ANONYMISED = "anonymised"
IDENTIFIABLE = "identifiable"

TextOf = Callable[[str, str], str]


def _ratings(summary: CaseSummary, identifiable: bool) -> dict[str, list[dict[str, Any]]]:
    ratings: dict[str, list[dict[str, Any]]] = {"week": [], "session": []}
    for reflection in summary.reflections:
        when: dict[str, Any] = {"week": summary.week_of(reflection.shared_on)}
        if identifiable:
            when["date"] = reflection.shared_on.isoformat()
        if reflection.week_rating is not None:
            ratings["week"].append({**when, "value": reflection.week_rating})
        if reflection.session_rating is not None:
            ratings["session"].append({**when, "value": reflection.session_rating})
    return ratings


def to_data(summary: CaseSummary, flavour: str, text_of: TextOf,
            people_labels: list[str] | None = None) -> dict[str, Any]:
    identifiable = flavour == IDENTIFIABLE
    data: dict[str, Any] = {"schema": SCHEMA, "version": SCHEMA_VERSION, "flavour": flavour}
    case: dict[str, Any] = {
        "sessions": len(summary.sessions),
        "weeks": (summary.week_of(summary.sessions[-1].held_on) if summary.sessions else 0),
        "attendance": summary.attendance,
    }
    if identifiable:
        profile = summary.profile
        case.update({"reference": summary.pseudonym, "client_name": profile.name,
                     "preferred_name": profile.preferred_name,
                     "date_of_birth": profile.date_of_birth or None,
                     "first_session": summary.intake.isoformat()})
    data["case"] = case
    if people_labels is not None:
        data["people"] = [{"label": label, "relation": relation}
                          for label, (_name, relation) in zip(people_labels, summary.people,
                                                              strict=True)]
    elif identifiable and summary.people:
        data["people"] = [{"name": name, "relation": relation}
                          for name, relation in summary.people]
    data["sessions"] = []
    for session in summary.sessions:
        item: dict[str, Any] = {"number": session.number, "week": session.week,
                                "duration_minutes": session.duration_minutes,
                                "attendance": session.attendance}
        if identifiable:
            item["date"] = session.held_on.isoformat()
        if session.sections:
            item["note"] = {"template": session.note_template, "status": session.note_status,
                            "sections": [{"key": s.key, "title": s.title,
                                          "text": text_of(_("Session %(n)s", n=session.number)
                                                          + " · " + s.title, s.text)}
                                         for s in session.sections]}
        data["sessions"].append(item)
    data["open_questions"] = []
    for index, question in enumerate(summary.questions):
        moves = []
        for move in question.moves:
            entry: dict[str, Any] = {"from": move.from_state, "to": move.to_state,
                                     "session": move.session_number,
                                     "week": summary.week_of(move.on)}
            if identifiable:
                entry["date"] = move.on.isoformat()
            if move.outcome:
                entry["outcome"] = text_of(_("Question %(n)s · outcome", n=index + 1),
                                           move.outcome)
            moves.append(entry)
        data["open_questions"].append({
            "text": text_of(_("Question %(n)s", n=index + 1), question.text),
            "asked_in_session": question.asked_in_session, "state": question.state,
            "moves": moves})
    data["reflections"] = []
    for index, reflection in enumerate(summary.reflections):
        where = _("Reflection %(n)s", n=index + 1)
        item = {"week": summary.week_of(reflection.shared_on),
                "prompts": {key: text_of(where, text) for key, text in reflection.prompts},
                "answers": [{"question": text_of(where, question),
                             "answer": text_of(where, answer)}
                            for n, (question, answer) in enumerate(reflection.answers)],
                "week_rating": reflection.week_rating,
                "session_rating": reflection.session_rating,
                "shared_versions": reflection.versions}
        if identifiable:
            item["shared_on"] = reflection.shared_on.isoformat()
            item["read_by_counsellor_on"] = (reflection.read_on.isoformat()
                                             if reflection.read_on else None)
        data["reflections"].append(item)
    data["ratings"] = _ratings(summary, identifiable)
    return data


def strings_of(value: Any) -> list[str]:
    """Every string in a nested structure, for the leak check."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_of(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_of(v)]
    return []
