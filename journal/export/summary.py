"""Read a whole case into a `CaseSummary`: sessions, notes, questions, reflections, people.

A fixed number of queries however long the case is; every field is opened with the case
keys already in the request's keyring. Nothing here anonymises: see `anonymised.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
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
    sessions: list[SessionSummary]
    questions: list[QuestionSummary]
    reflections: list[ReflectionSummary]
    people: list[tuple[str, str]]  # (name, relation)

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
    summaries = []
    for session, note in rows:
        summary = SessionSummary(session.number, session.held_on,
                                 (session.held_on - intake).days // 7 + 1,
                                 session.duration_minutes, session.attendance)
        revision = latest.get(note.id) if note is not None else None
        if note is not None and revision is not None:
            content = unseal_json(key, revision.content_sealed, "note_revisions", revision.id,
                                  "content", case.id)
            titles = dict(notes_service.TEMPLATES[note.template])
            summary.note_template, summary.note_status = note.template, note.status
            summary.sections = [NoteSection(k, str(titles[k]), content.get(k, ""))
                                for k in notes_service.section_keys(note.template)
                                if content.get(k, "").strip()]
        summaries.append(summary)
    return summaries


def _questions(db: Session, keyring: Keyring, case: Case) -> list[QuestionSummary]:
    return [QuestionSummary(
        view.text, view.asked_in, view.asked_on, view.question.state,
        [QuestionMove(m.from_state, m.to_state, m.session_number, m.at.date(), m.outcome)
         for m in view.history])
        for view in questions_service.history(db, keyring, case)]


def _reflections(db: Session, keyring: Keyring, case: Case,
                 question_texts: dict[str, str]) -> list[ReflectionSummary]:
    reflections = {r.id: r for r in db.scalars(select(Reflection).where(
        Reflection.case_id == case.id, Reflection.status == "shared"))}
    latest: dict[str, ReflectionVersion] = {}
    counts: dict[str, int] = {}
    for version in db.scalars(select(ReflectionVersion).where(
            ReflectionVersion.case_id == case.id, ReflectionVersion.scope == SHARED_SCOPE)
            .order_by(ReflectionVersion.number)):
        latest[version.reflection_id] = version
        counts[version.reflection_id] = counts.get(version.reflection_id, 0) + 1
    summaries = []
    for reflection_id, version in latest.items():
        reflection = reflections.get(reflection_id)
        if reflection is None or reflection.shared_at is None:
            continue
        content = reflections_service.open_version(keyring, version)
        summaries.append(ReflectionSummary(
            shared_on=(version.shared_at or reflection.shared_at).date(),
            prompts=[(p, getattr(content, p)) for p in reflections_service.PROMPTS
                     if getattr(content, p).strip()],
            answers=[(question_texts.get(qid, ""), answer)
                     for qid, answer in content.answers.items() if answer.strip()],
            week_rating=content.week_rating, session_rating=content.session_rating,
            versions=counts[reflection_id],
            read_on=version.read_at.date() if version.read_at else None))
    return sorted(summaries, key=lambda r: r.shared_on)


def build(db: Session, keyring: Keyring, case: Case, include_notes: bool = True
          ) -> CaseSummary:
    """Everything a case summary shows, opened in memory."""
    first = db.scalar(select(CounsellingSession.held_on).where(
        CounsellingSession.case_id == case.id).order_by(CounsellingSession.held_on).limit(1))
    intake = first or case.created_at.date()
    question_list = _questions(db, keyring, case)
    texts = questions_service.texts_by_id(db, keyring, case) if question_list else {}
    return CaseSummary(
        pseudonym=case.pseudonym,
        profile=cases_service.profile_of(keyring, case),
        intake=intake,
        sessions=_sessions(db, keyring, case, intake, include_notes),
        questions=question_list,
        reflections=_reflections(db, keyring, case, texts),
        people=[(p.name, p.relation) for p in people_service.people_of(db, keyring, case)],
    )
