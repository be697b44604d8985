"""Who may see what. Each rule is a named function; anything outside your cases is NotFound."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from ..models import Case, CounsellingSession, Note, OpenQuestion, Person, User, is_id
from .errors import NotFound

T = TypeVar("T", CounsellingSession, OpenQuestion, Person, Note)


def can_read_case(user: User, case: Case) -> bool:
    """A case is the counsellor's own; the practice admin role grants nothing here."""
    return user.is_counsellor and case.counsellor_id == user.id


def case_for_counsellor(db: Session, user: User, case_id: str) -> Case:
    """The case if it is this counsellor's, else NotFound."""
    case = db.get(Case, case_id) if is_id(case_id) else None
    if case is None or not can_read_case(user, case):
        raise NotFound(case_id)
    return case


def _child_of(db: Session, model: type[T], case: Case, object_id: str) -> T:
    obj = db.get(model, object_id) if is_id(object_id) else None
    if obj is None or obj.case_id != case.id:
        raise NotFound(object_id)
    return obj


def session_in_case(db: Session, case: Case, session_id: str) -> CounsellingSession:
    """A session of this case, else NotFound."""
    return _child_of(db, CounsellingSession, case, session_id)


def question_in_case(db: Session, case: Case, question_id: str) -> OpenQuestion:
    """An open question of this case, else NotFound."""
    return _child_of(db, OpenQuestion, case, question_id)


def person_in_case(db: Session, case: Case, person_id: str) -> Person:
    """A person recorded in this case, else NotFound."""
    return _child_of(db, Person, case, person_id)


def note_in_case(db: Session, case: Case, note_id: str) -> Note:
    """A note of this case, else NotFound."""
    return _child_of(db, Note, case, note_id)
