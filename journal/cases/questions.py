"""Open questions: asked in a session, carried forward until resolved or parked."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from ..db import read_columns
from ..keyring import Keyring
from ..models import (
    ANSWERED,
    OPEN,
    PARKED,
    PRIVATE,
    RESOLVED,
    SHARED,
    Case,
    CounsellingSession,
    OpenQuestion,
    QuestionEvent,
    new_id,
    utcnow,
)
from .errors import InvalidChange
from .sealing import seal, unseal

MAX_QUESTION_CHARS = 1_000
MAX_OUTCOME_CHARS = 2_000
# Questions still waiting for the client or for the next session.
CARRIED_FORWARD = (OPEN, ANSWERED)
# Allowed moves, the likeliest next step first (it is the form's default).
_MOVES = {
    OPEN: (ANSWERED, RESOLVED, PARKED),
    ANSWERED: (RESOLVED, OPEN, PARKED),
    PARKED: (OPEN, RESOLVED),
    RESOLVED: (OPEN,),
}


@dataclass
class Movement:
    from_state: str | None
    to_state: str
    outcome: str
    session_number: int | None
    at: datetime
    reflection_id: str | None = None  # the client's reflection that answered it, if any


@dataclass
class QuestionView:
    question: QuestionRef
    text: str
    asked_in: int
    asked_on: object
    history: list[Movement] = field(default_factory=list)


def allowed_moves(state: str) -> list[str]:
    """The states a question in `state` may move to, the likeliest first."""
    return list(_MOVES.get(state, ()))


def ask(db: Session, keyring: Keyring, session: CounsellingSession, text: str) -> OpenQuestion:
    """Record a question asked in a session; the client will see it (shared case key)."""
    text = text.strip()
    if not text or len(text) > MAX_QUESTION_CHARS:
        raise InvalidChange("text")
    question_id = new_id()
    question = OpenQuestion(
        id=question_id, case_id=session.case_id, asked_in_session_id=session.id, state=OPEN,
        text_sealed=seal(keyring.case_key(session.case_id, SHARED), text, "open_questions",
                         question_id, "text", session.case_id),
    )
    db.add(question)
    db.flush()
    db.add(QuestionEvent(id=new_id(), question_id=question_id, case_id=session.case_id,
                         session_id=session.id, from_state=None, to_state=OPEN,
                         actor_id=keyring.user.id))
    return question


def move(db: Session, keyring: Keyring, question: OpenQuestion, to_state: str, outcome: str,
         session: CounsellingSession | None = None) -> QuestionEvent:
    """Move a question to another state, with an optional short outcome (counsellor only)."""
    if to_state not in _MOVES.get(question.state, ()):
        raise InvalidChange(to_state)
    outcome = outcome.strip()
    if len(outcome) > MAX_OUTCOME_CHARS:
        raise InvalidChange("outcome")
    event_id = new_id()
    event = QuestionEvent(
        id=event_id, question_id=question.id, case_id=question.case_id,
        session_id=session.id if session else None, from_state=question.state, to_state=to_state,
        outcome_sealed=(seal(keyring.case_key(question.case_id, PRIVATE), outcome,
                             "question_events", event_id, "outcome", question.case_id)
                        if outcome else None),
        actor_id=keyring.user.id,
    )
    db.add(event)
    question.state = to_state
    question.state_changed_at = utcnow()
    return event


class QuestionRef(NamedTuple):
    """What a list shows of a question besides its text: a row of columns, not a tracked ORM
    object (building those cost more than opening the texts)."""

    id: str
    state: str


def _views(db: Session, keyring: Keyring, case: Case, rows: list, with_history: bool
           ) -> list[QuestionView]:
    if not rows:
        return []
    shared = keyring.case_key(case.id, SHARED)
    views = [QuestionView(QuestionRef(question_id, state),
                          unseal(shared, sealed, "open_questions", question_id, "text", case.id),
                          number, held_on)
             for question_id, state, sealed, number, held_on in rows]
    if with_history:
        private = keyring.case_key(case.id, PRIVATE)
        by_id = {v.question.id: v for v in views}
        events = db.execute(
            select(QuestionEvent, CounsellingSession.number)
            .outerjoin(CounsellingSession, CounsellingSession.id == QuestionEvent.session_id)
            .where(QuestionEvent.question_id.in_(by_id))
            .order_by(QuestionEvent.created_at)
        ).all()
        for event, number in events:
            outcome = (unseal(private, event.outcome_sealed, "question_events", event.id,
                              "outcome", case.id) if event.outcome_sealed else "")
            by_id[event.question_id].history.append(
                Movement(event.from_state, event.to_state, outcome, number, event.created_at,
                         event.reflection_id))
    return views


def _select_with_session() -> Select:
    return (select(OpenQuestion.id, OpenQuestion.state, OpenQuestion.text_sealed,
                   CounsellingSession.number, CounsellingSession.held_on)
            .join(CounsellingSession, CounsellingSession.id == OpenQuestion.asked_in_session_id))


def agenda_for(db: Session, keyring: Keyring, case: Case, session: CounsellingSession
               ) -> list[QuestionView]:
    """Questions from earlier sessions still open or answered: this session's agenda."""
    rows = db.execute(_select_with_session().where(
        OpenQuestion.case_id == case.id, OpenQuestion.state.in_(CARRIED_FORWARD),
        CounsellingSession.number < session.number,
    ).order_by(CounsellingSession.number, OpenQuestion.created_at)).all()
    return _views(db, keyring, case, rows, with_history=False)


def asked_in(db: Session, keyring: Keyring, case: Case, session: CounsellingSession
             ) -> list[QuestionView]:
    """Questions asked in this session."""
    rows = db.execute(_select_with_session().where(
        OpenQuestion.asked_in_session_id == session.id,
    ).order_by(OpenQuestion.created_at)).all()
    return _views(db, keyring, case, rows, with_history=False)


def history(db: Session, keyring: Keyring, case: Case) -> list[QuestionView]:
    """Every question of the case with when it was asked and how it moved."""
    rows = db.execute(_select_with_session().where(OpenQuestion.case_id == case.id)
                      .order_by(CounsellingSession.number, OpenQuestion.created_at)).all()
    return _views(db, keyring, case, rows, with_history=True)


@functools.cache
def _still_open_query() -> Select:
    # Built once, bound per request (see "Statements" in db.py): the case page, the brief
    # and the client's home all list these.
    return _select_with_session().where(
        OpenQuestion.case_id == bindparam("case_id"), OpenQuestion.state.in_(CARRIED_FORWARD),
    ).order_by(CounsellingSession.number, OpenQuestion.created_at)


def still_open(db: Session, keyring: Keyring, case: Case) -> list[QuestionView]:
    """Questions carried forward to the next session."""
    rows = read_columns(db, _still_open_query(), {"case_id": case.id}).all()
    return _views(db, keyring, case, rows, with_history=False)


def texts_by_id(db: Session, keyring: Keyring, case: Case) -> dict[str, str]:
    """Every question's text by id, opened with the shared key only (clients can call this)."""
    rows = db.scalars(select(OpenQuestion).where(OpenQuestion.case_id == case.id)).all()
    if not rows:
        return {}
    shared = keyring.case_key(case.id, SHARED)
    return {q.id: unseal(shared, q.text_sealed, "open_questions", q.id, "text", case.id)
            for q in rows}
