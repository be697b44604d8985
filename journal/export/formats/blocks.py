"""The readable document: headings, paragraphs and facts, in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..document import Part, Words, parts_of


class Block(NamedTuple):
    kind: str  # title | heading | subheading | fact | text | item
    text: str


def _prompt_titles() -> dict[str, str]:
    from ...portal.forms import PROMPT_LABELS

    return {key: str(label) for key, label in PROMPT_LABELS.items()}


class _Labels:
    """The interface's words for states and attendance, each translated once per document."""

    def __init__(self) -> None:
        from ...cases.forms import ATTENDANCE_CHOICES, STATE_LABELS

        self._states = STATE_LABELS
        self._attendance = ATTENDANCE_CHOICES
        self._seen: dict[tuple[str, str | None], str] = {}

    def state(self, name: str | None) -> str:
        label = self._seen.get(("state", name))
        if label is None:
            label = self._seen[("state", name)] = str(
                self._states.get(name or "", name or "—"))
        return label

    def attendance(self, name: str) -> str:
        label = self._seen.get(("attendance", name))
        if label is None:
            label = self._seen[("attendance", name)] = next(
                (str(c.label) for c in self._attendance if c.value == name), name)
        return label


def blocks(data: dict[str, Any]) -> list[Block]:
    return list(iter_blocks(parts_of(data)))


def iter_blocks(parts: Iterable[Part]) -> Iterator[Block]:
    """The readable document, block by block, from the document's parts in order."""
    _ = Words()
    labels = _Labels()

    def when(item: dict[str, Any], date_key: str = "date") -> str:
        week = _("week %(n)s", n=item["week"])
        return f"{item[date_key]} ({week})" if item.get(date_key) else week

    questions = reflections = False
    titles: dict[str, str] = {}
    for kind, part in parts:
        if kind == "head":
            yield from _head(part, _, labels)
        elif kind == "session":
            session = part
            yield Block("subheading", _("Session %(n)s", n=session["number"]) + " · "
                        + when(session) + " · " + labels.attendance(session["attendance"])
                        + " · " + _("%(m)s min", m=session["duration_minutes"]))
            for section in session.get("note", {}).get("sections", []):
                yield Block("fact", section["title"])
                yield Block("text", section["text"])
        elif kind == "question":
            question = part
            if not questions:
                questions = True
                yield Block("heading", _("Open questions and how they moved"))
            yield Block("subheading", question["text"])
            yield Block("fact", _("Asked in session %(n)s; now: %(s)s",
                                  n=question["asked_in_session"],
                                  s=labels.state(question["state"])))
            for move in question["moves"]:
                line = (f"{when(move)}: {labels.state(move['from'])} → "
                        f"{labels.state(move['to'])}")
                if move.get("outcome"):
                    line += f" — {move['outcome']}"
                yield Block("item", line)
        elif kind == "reflection":
            reflection = part
            if not reflections:
                reflections = True
                titles = _prompt_titles()
                yield Block("heading", _("The client's reflections"))
            yield Block("subheading", _("Reflection shared in %(w)s",
                                        w=when(reflection, "shared_on")))
            for key, text in reflection["prompts"].items():
                yield Block("fact", titles.get(key, key))
                yield Block("text", text)
            for answer in reflection["answers"]:
                yield Block("fact", answer["question"])
                yield Block("text", answer["answer"])
            ratings = []
            if reflection["week_rating"] is not None:
                ratings.append(_("week %(v)s/10", v=reflection["week_rating"]))
            if reflection["session_rating"] is not None:
                ratings.append(_("session %(v)s/10", v=reflection["session_rating"]))
            if ratings:
                yield Block("item", _("Ratings: %(r)s", r=", ".join(ratings)))
        elif kind == "ratings" and (part["week"] or part["session"]):
            yield Block("heading", _("Ratings over time (0–10)"))
            for name, title in (("week", _("How the week was")),
                                ("session", _("How the session felt"))):
                points = part[name]
                if points:
                    yield Block("item", title + ": " + ", ".join(
                        f"{_('week %(n)s', n=p['week'])}: {p['value']}" for p in points))


def _head(data: dict[str, Any], _: Words, labels: _Labels) -> Iterator[Block]:
    identifiable = data["flavour"] == "identifiable"
    case = data["case"]
    yield Block("title", _("Case summary — your own copy") if identifiable
                else _("Anonymised case summary"))
    if identifiable:
        yield Block("fact", _("Client: %(name)s", name=case["client_name"]))
        if case.get("date_of_birth"):
            yield Block("fact", _("Date of birth: %(d)s", d=case["date_of_birth"]))
        yield Block("fact", _("First session: %(d)s", d=case["first_session"]))
    else:
        yield Block("fact", _("Names, places, numbers and dates are replaced; dates "
                              "are counted in weeks from the first session."))
    attendance = ", ".join(f"{labels.attendance(k)}: {v}" for k, v in case["attendance"].items())
    yield Block("fact", _("%(n)s sessions over %(w)s weeks", n=case["sessions"],
                          w=case["weeks"]) + (f" — {attendance}" if attendance else ""))
    if data.get("people"):
        yield Block("heading", _("People in the client's life"))
        for person in data["people"]:
            who = person.get("label") or person.get("name")
            yield Block("item", f"{who} — {person['relation']}" if person["relation"]
                        else who)
    yield Block("heading", _("Sessions"))
