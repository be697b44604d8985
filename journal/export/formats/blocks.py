"""The readable document: headings, paragraphs and facts, in the reader's language."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask_babel import gettext as _


class Block(NamedTuple):
    kind: str  # title | heading | subheading | fact | text | item
    text: str


def _prompt_titles() -> dict[str, str]:
    from ...portal.forms import PROMPT_LABELS

    return {key: str(label) for key, label in PROMPT_LABELS.items()}


def _state(name: str | None) -> str:
    from ...cases.forms import STATE_LABELS

    return str(STATE_LABELS.get(name or "", name or "—"))


def _attendance(name: str) -> str:
    from ...cases.forms import ATTENDANCE_CHOICES

    return next((str(c.label) for c in ATTENDANCE_CHOICES if c.value == name), name)


def _when(item: dict[str, Any], date_key: str = "date") -> str:
    week = _("week %(n)s", n=item["week"])
    return f"{item[date_key]} ({week})" if item.get(date_key) else week


def blocks(data: dict[str, Any]) -> list[Block]:
    identifiable = data["flavour"] == "identifiable"
    case = data["case"]
    out = [Block("title", _("Case summary — your own copy") if identifiable
                 else _("Anonymised case summary"))]
    if identifiable:
        out.append(Block("fact", _("Client: %(name)s", name=case["client_name"])))
        if case.get("date_of_birth"):
            out.append(Block("fact", _("Date of birth: %(d)s", d=case["date_of_birth"])))
        out.append(Block("fact", _("First session: %(d)s", d=case["first_session"])))
    else:
        out.append(Block("fact", _("Names, places, numbers and dates are replaced; dates "
                                   "are counted in weeks from the first session.")))
    attendance = ", ".join(f"{_attendance(k)}: {v}" for k, v in case["attendance"].items())
    out.append(Block("fact", _("%(n)s sessions over %(w)s weeks", n=case["sessions"],
                               w=case["weeks"]) + (f" — {attendance}" if attendance else "")))
    if data.get("people"):
        out.append(Block("heading", _("People in the client's life")))
        for person in data["people"]:
            who = person.get("label") or person.get("name")
            out.append(Block("item", f"{who} — {person['relation']}" if person["relation"]
                             else who))
    out.append(Block("heading", _("Sessions")))
    for session in data["sessions"]:
        out.append(Block("subheading", _("Session %(n)s", n=session["number"]) + " · "
                         + _when(session) + " · " + _attendance(session["attendance"])
                         + " · " + _("%(m)s min", m=session["duration_minutes"])))
        for section in session.get("note", {}).get("sections", []):
            out.append(Block("fact", section["title"]))
            out.append(Block("text", section["text"]))
    if data["open_questions"]:
        out.append(Block("heading", _("Open questions and how they moved")))
        for question in data["open_questions"]:
            out.append(Block("subheading", question["text"]))
            out.append(Block("fact", _("Asked in session %(n)s; now: %(s)s",
                                       n=question["asked_in_session"],
                                       s=_state(question["state"]))))
            for move in question["moves"]:
                line = f"{_when(move)}: {_state(move['from'])} → {_state(move['to'])}"
                if move.get("outcome"):
                    line += f" — {move['outcome']}"
                out.append(Block("item", line))
    if data["reflections"]:
        titles = _prompt_titles()
        out.append(Block("heading", _("The client's reflections")))
        for reflection in data["reflections"]:
            out.append(Block("subheading", _("Reflection shared in %(w)s",
                                             w=_when(reflection, "shared_on"))))
            for key, text in reflection["prompts"].items():
                out.append(Block("fact", titles.get(key, key)))
                out.append(Block("text", text))
            for answer in reflection["answers"]:
                out.append(Block("fact", answer["question"]))
                out.append(Block("text", answer["answer"]))
            ratings = []
            if reflection["week_rating"] is not None:
                ratings.append(_("week %(v)s/10", v=reflection["week_rating"]))
            if reflection["session_rating"] is not None:
                ratings.append(_("session %(v)s/10", v=reflection["session_rating"]))
            if ratings:
                out.append(Block("item", _("Ratings: %(r)s", r=", ".join(ratings))))
    if data["ratings"]["week"] or data["ratings"]["session"]:
        out.append(Block("heading", _("Ratings over time (0–10)")))
        for name, title in (("week", _("How the week was")),
                            ("session", _("How the session felt"))):
            points = data["ratings"][name]
            if points:
                out.append(Block("item", title + ": " + ", ".join(
                    f"{_('week %(n)s', n=p['week'])}: {p['value']}" for p in points)))
    return out
