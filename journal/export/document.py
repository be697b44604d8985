"""A case summary as plain data (the JSON export) — one builder for both flavours.

`parts()` walks a `CaseSummary` in a fixed order, piece by piece, and passes every free text
through `text_of(where, text)`: the identity for the client's own copy, the anonymiser for
the supervision copy. `to_data()` puts the pieces together; the streamed supervision export
writes each piece out as it comes. The schema is documented in docs/EXPORT.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask_babel import gettext

from .summary import CaseSummary, ReflectionSummary

SCHEMA = "counselling-journal/case-summary"
SCHEMA_VERSION = 1
ANONYMISED = "anonymised"
IDENTIFIABLE = "identifiable"

TextOf = Callable[[str, str], str]
Part = tuple[str, Any]  # ("head" | "session" | "question" | "reflection" | "ratings", data)
LISTS = (("session", "sessions"), ("question", "open_questions"), ("reflection", "reflections"))


class Words:
    """gettext for one document: each message is looked up once, then formatted as gettext
    would (flask-babel's lookup costs ~25 µs, and a long case asks for the same few messages
    thousands of times)."""

    def __init__(self) -> None:
        self._messages: dict[str, str] = {}

    def __call__(self, message: str, **variables: Any) -> str:
        text = self._messages.get(message)
        if text is None:
            text = self._messages[message] = gettext(message)
        return text % variables if variables else text


def _rating_points(summary: CaseSummary, reflection: ReflectionSummary, identifiable: bool,
                   ratings: dict[str, list[dict[str, Any]]]) -> None:
    when: dict[str, Any] = {"week": summary.week_of(reflection.shared_on)}
    if identifiable:
        when["date"] = reflection.shared_on.isoformat()
    if reflection.week_rating is not None:
        ratings["week"].append({**when, "value": reflection.week_rating})
    if reflection.session_rating is not None:
        ratings["session"].append({**when, "value": reflection.session_rating})


def parts(summary: CaseSummary, flavour: str, text_of: TextOf,
          people_labels: list[str] | None = None) -> Iterator[Part]:
    """The document piece by piece, in order: the head (schema, case, people), then each
    session, question and reflection, then the ratings. Texts go through `text_of` in this
    order, so a streamed document and `to_data` call it identically."""
    _ = Words()
    identifiable = flavour == IDENTIFIABLE
    head: dict[str, Any] = {"schema": SCHEMA, "version": SCHEMA_VERSION, "flavour": flavour}
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
    head["case"] = case
    if people_labels is not None:
        head["people"] = [{"label": label, "relation": relation}
                          for label, (_name, relation) in zip(people_labels, summary.people,
                                                              strict=True)]
    elif identifiable and summary.people:
        head["people"] = [{"name": name, "relation": relation}
                          for name, relation in summary.people]
    yield "head", head
    for session in summary.notes():
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
        yield "session", item
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
        yield "question", {
            "text": text_of(_("Question %(n)s", n=index + 1), question.text),
            "asked_in_session": question.asked_in_session, "state": question.state,
            "moves": moves}
    ratings: dict[str, list[dict[str, Any]]] = {"week": [], "session": []}
    for index, reflection in enumerate(summary.shared_reflections()):
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
        _rating_points(summary, reflection, identifiable, ratings)
        yield "reflection", item
    yield "ratings", ratings


def assemble(pieces: Iterable[Part]) -> dict[str, Any]:
    """The whole document as one dict (the JSON export's shape) from its parts."""
    data: dict[str, Any] = {}
    lists = dict(LISTS)
    for kind, part in pieces:
        if kind == "head":
            data.update(part)
            for name in lists.values():
                data[name] = []
        elif kind == "ratings":
            data["ratings"] = part
        else:
            data[lists[kind]].append(part)
    return data


def parts_of(data: dict[str, Any]) -> Iterator[Part]:
    """A whole document cut back into its parts (see `parts`)."""
    lists = {name for _kind, name in LISTS}
    yield "head", {k: v for k, v in data.items() if k not in lists and k != "ratings"}
    for kind, name in LISTS:
        for item in data[name]:
            yield kind, item
    yield "ratings", data["ratings"]


def to_data(summary: CaseSummary, flavour: str, text_of: TextOf,
            people_labels: list[str] | None = None) -> dict[str, Any]:
    return assemble(parts(summary, flavour, text_of, people_labels))


def strings_of(value: Any) -> list[str]:
    """Every string in a nested structure, for the leak check."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_of(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_of(v)]
    return []
