"""Read a whole case into a `CaseSummary`: sessions, notes, questions, reflections, people.

A fixed number of queries however long the case is; every field is opened with the case
keys already in the request's keyring. Nothing here anonymises: see `anonymised.py`.

`build(..., stream=True)` opens the notes and reflections one at a time instead, as the
document asks for them (`notes()`, `shared_reflections()`), so a long case never holds all
its plaintext at once: the supervision export writes each session out before opening the
next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..cases import notes as notes_service
from ..cases import people as people_service
from ..cases import questions as questions_service
from ..cases import service as cases_service
from ..cases.sealing import unseal_json
from ..keyring import Keyring
from ..models import (
    PRIVATE,
    SHARED_SCOPE,
    Case,
    CounsellingSession,
    Note,
    NoteRevision,
    Reflection,
    ReflectionVersion,
)
from ..portal import reflections as reflections_service


@dataclass
class NoteSection:
    key: str
    title: str
    text: str


@dataclass
class SessionSummary:
    number: int
    held_on: date
    week: int
    duration_minutes: int
    attendance: str
    note_template: str = ""
    note_status: str = ""
    sections: list[NoteSection] = field(default_factory=list)


@dataclass
class QuestionMove:
    from_state: str | None
    to_state: str
    session_number: int | None
    on: date
    outcome: str


@dataclass
class QuestionSummary:
    text: str
    asked_in_session: int
    asked_on: date
    state: str
    moves: list[QuestionMove]


@dataclass
class ReflectionSummary:
    shared_on: date
    prompts: list[tuple[str, str]]  # (prompt key, text)
    answers: list[tuple[str, str]]  # (question text, answer)
    week_rating: int | None
    session_rating: int | None
    versions: int
    read_on: date | None


@dataclass
class CaseSummary:
    pseudonym: str
    profile: cases_service.ClientProfile
    intake: date
    # Streaming: the sessions without their notes, and no reflections (see notes()).
    sessions: list[SessionSummary]
    questions: list[QuestionSummary]
    reflections: list[ReflectionSummary]
    people: list[tuple[str, str]]  # (name, relation)
    stream: _Stream | None = None

    def notes(self) -> Iterator[SessionSummary]:
        """Every session with its note, in order: opened one at a time when streaming."""
        if self.stream is None:
            yield from self.sessions
        else:
            yield from self.stream.sessions(self.sessions)

    def shared_reflections(self) -> Iterator[ReflectionSummary]:
        """Every shared reflection, in order: opened one at a time when streaming."""
        if self.stream is None:
            yield from self.reflections
        else:
            yield from self.stream.reflections()

    @property
    def attendance(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self.sessions:
            counts[session.attendance] = counts.get(session.attendance, 0) + 1
        return counts

    def week_of(self, when: date | datetime) -> int:
        day = when.date() if isinstance(when, datetime) else when
        return (day - self.intake).days // 7 + 1


def _latest_revisions(db: Session, case: Case) -> dict[str, NoteRevision]:
    latest: dict[str, NoteRevision] = {}
    for row in db.scalars(select(NoteRevision).where(NoteRevision.case_id == case.id)
                          .order_by(NoteRevision.note_id, NoteRevision.number)):
        latest[row.note_id] = row
    return latest


def _sessions(db: Session, keyring: Keyring, case: Case, intake: date,
              include_notes: bool) -> list[SessionSummary]:
    rows = db.execute(select(CounsellingSession, Note)
                      .outerjoin(Note, Note.session_id == CounsellingSession.id)
                      .where(CounsellingSession.case_id == case.id)
                      .order_by(CounsellingSession.number)).all()
    latest = _latest_revisions(db, case) if include_notes else {}
    key = keyring.case_key(case.id, PRIVATE) if latest else b""
    titles: dict[str, dict[str, str]] = {}
    summaries = []
    for session, note in rows:
        summary = SessionSummary(session.number, session.held_on,
                                 (session.held_on - intake).days // 7 + 1,
                                 session.duration_minutes, session.attendance)
        revision = latest.get(note.id) if note is not None else None
        if note is not None and revision is not None:
            content = unseal_json(key, revision.content_sealed, "note_revisions", revision.id,
                                  "content", case.id)
            summary.note_template, summary.note_status = note.template, note.status
            summary.sections = _sections(note.template, content, titles)
        summaries.append(summary)
    return summaries


def _sections(template: str, content: dict[str, Any],
              titles: dict[str, dict[str, str]]) -> list[NoteSection]:
    """The note's non-empty sections; `titles` keeps each template's titles, translated once
    per summary."""
    named = titles.get(template)
    if named is None:
        named = titles[template] = {k: str(title)
                                    for k, title in notes_service.TEMPLATES[template]}
    return [NoteSection(k, named[k], content.get(k, ""))
            for k in notes_service.section_keys(template) if content.get(k, "").strip()]


def _session_list(db: Session, case: Case, intake: date) -> list[SessionSummary]:
    """The sessions without their notes (nothing sealed is read)."""
    return [SessionSummary(number, held_on, (held_on - intake).days // 7 + 1, minutes, attendance)
            for number, held_on, minutes, attendance in db.execute(
                select(CounsellingSession.number, CounsellingSession.held_on,
                       CounsellingSession.duration_minutes, CounsellingSession.attendance)
                .where(CounsellingSession.case_id == case.id)
                .order_by(CounsellingSession.number))]


def _questions(db: Session, keyring: Keyring, case: Case) -> list[QuestionSummary]:
    return [QuestionSummary(
        view.text, view.asked_in, view.asked_on, view.question.state,
        [QuestionMove(m.from_state, m.to_state, m.session_number, m.at.date(), m.outcome)
         for m in view.history])
        for view in questions_service.history(db, keyring, case)]


def _shared_versions(db: Session, case: Case) -> list[tuple[date, ReflectionVersion, int]]:
    """The latest shared version of each shared reflection, with its shared day and how many
    versions were shared, in the order the summary lists them (sealed: nothing opened)."""
    reflections = {r.id: r for r in db.scalars(select(Reflection).where(
        Reflection.case_id == case.id, Reflection.status == "shared"))}
    latest: dict[str, ReflectionVersion] = {}
    counts: dict[str, int] = {}
    for version in db.scalars(select(ReflectionVersion).where(
            ReflectionVersion.case_id == case.id, ReflectionVersion.scope == SHARED_SCOPE)
            .order_by(ReflectionVersion.number)):
        latest[version.reflection_id] = version
        counts[version.reflection_id] = counts.get(version.reflection_id, 0) + 1
    shared = []
    for reflection_id, version in latest.items():
        reflection = reflections.get(reflection_id)
        if reflection is None or reflection.shared_at is None:
            continue
        shared.append(((version.shared_at or reflection.shared_at).date(), version,
                       counts[reflection_id]))
    return sorted(shared, key=lambda item: item[0])


def _open_reflection(keyring: Keyring, shared_on: date, version: ReflectionVersion,
                     versions: int, question_texts: dict[str, str]) -> ReflectionSummary:
    content = reflections_service.open_version(keyring, version)
    return ReflectionSummary(
        shared_on=shared_on,
        prompts=[(p, getattr(content, p)) for p in reflections_service.PROMPTS
                 if getattr(content, p).strip()],
        answers=[(question_texts.get(qid, ""), answer)
                 for qid, answer in content.answers.items() if answer.strip()],
        week_rating=content.week_rating, session_rating=content.session_rating,
        versions=versions,
        read_on=version.read_at.date() if version.read_at else None)


def _reflections(db: Session, keyring: Keyring, case: Case,
                 question_texts: dict[str, str]) -> list[ReflectionSummary]:
    return [_open_reflection(keyring, shared_on, version, versions, question_texts)
            for shared_on, version, versions in _shared_versions(db, case)]


class _Stream:
    """Opens a case's notes and reflections one at a time, for a summary built to stream."""

    def __init__(self, db: Session, keyring: Keyring, case: Case,
                 question_texts: dict[str, str]) -> None:
        self._db, self._keyring, self._case = db, keyring, case
        self._question_texts = question_texts
        # Sealed until read: the reflections' order needs only their dates.
        self._shared = _shared_versions(db, case)

    def sessions(self, sessions: list[SessionSummary]) -> Iterator[SessionSummary]:
        case = self._case
        key = b""  # opened with the first note, as _sessions does
        titles: dict[str, dict[str, str]] = {}
        # The latest revision of each note, read in session order a few rows at a time.
        latest = (select(NoteRevision.note_id, func.max(NoteRevision.number).label("number"))
                  .where(NoteRevision.case_id == case.id).group_by(NoteRevision.note_id)
                  .subquery())
        rows = self._db.execute(
            select(CounsellingSession.number, Note.template, Note.status, NoteRevision.id,
                   NoteRevision.content_sealed)
            .join(Note, Note.session_id == CounsellingSession.id)
            .join(latest, latest.c.note_id == Note.id)
            .join(NoteRevision, and_(NoteRevision.note_id == Note.id,
                                     NoteRevision.number == latest.c.number))
            .where(CounsellingSession.case_id == case.id)
            .order_by(CounsellingSession.number)
            .execution_options(yield_per=64))
        try:
            notes = iter(rows)
            note = next(notes, None)
            for session in sessions:
                while note is not None and note.number < session.number:
                    note = next(notes, None)
                if note is None or note.number != session.number:
                    yield session
                    continue
                key = key or self._keyring.case_key(case.id, PRIVATE)
                content = unseal_json(key, note.content_sealed, "note_revisions", note.id,
                                      "content", case.id)
                yield replace(session, note_template=note.template, note_status=note.status,
                              sections=_sections(note.template, content, titles))
                note = next(notes, None)
        finally:
            rows.close()

    def reflections(self) -> Iterator[ReflectionSummary]:
        shared, self._shared = self._shared, []
        for index, (shared_on, version, versions) in enumerate(shared):
            shared[index] = None  # type: ignore[call-overload] - let each one go once read
            yield _open_reflection(self._keyring, shared_on, version, versions,
                                   self._question_texts)


def build(db: Session, keyring: Keyring, case: Case, include_notes: bool = True,
          stream: bool = False) -> CaseSummary:
    """Everything a case summary shows, opened in memory; with `stream`, the notes and
    reflections are left sealed until `notes()` and `shared_reflections()` open them."""
    first = db.scalar(select(CounsellingSession.held_on).where(
        CounsellingSession.case_id == case.id).order_by(CounsellingSession.held_on).limit(1))
    intake = first or case.created_at.date()
    question_list = _questions(db, keyring, case)
    texts = questions_service.texts_by_id(db, keyring, case) if question_list else {}
    profile = cases_service.profile_of(keyring, case)
    people = [(p.name, p.relation) for p in people_service.people_of(db, keyring, case)]
    if stream and include_notes:
        return CaseSummary(
            pseudonym=case.pseudonym, profile=profile, intake=intake,
            sessions=_session_list(db, case, intake), questions=question_list,
            reflections=[], people=people, stream=_Stream(db, keyring, case, texts))
    return CaseSummary(
        pseudonym=case.pseudonym,
        profile=profile,
        intake=intake,
        sessions=_sessions(db, keyring, case, intake, include_notes),
        questions=question_list,
        reflections=_reflections(db, keyring, case, texts),
        people=people,
    )
