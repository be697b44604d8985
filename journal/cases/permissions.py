"""Who may see what. Each rule is a named function; anything outside your cases is NotFound."""

from __future__ import annotations

import functools
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from ..keyring import Keyring
from ..models import (
    Case,
    CaseKey,
    CounsellingSession,
    Note,
    OpenQuestion,
    Person,
    SessionKey,
    SignedInUser,
    User,
    is_id,
)
from .errors import NotFound
from .notes import NoteRef
from .sessions import next_booked_on

T = TypeVar("T", CounsellingSession, OpenQuestion, Person, Note)


class _OwnedByCounsellor(Protocol):
    counsellor_id: str


def can_read_case(user: User | SignedInUser, case: Case | _OwnedByCounsellor) -> bool:
    """A case is the counsellor's own; the practice admin role grants nothing here."""
    return user.is_counsellor and case.counsellor_id == user.id


def case_for_counsellor(db: Session, user: User, case_id: str) -> Case:
    """The case if it is this counsellor's, else NotFound."""
    case = db.get(Case, case_id) if is_id(case_id) else None
    if case is None or not can_read_case(user, case):
        raise NotFound(case_id)
    return case


# Every case page starts from its case, and most go on to open a case key: the case (with
# the session the URL names and its note), the user's wraps of the case's keys and this
# signed-in session's copies of them (keyring.py) come in one statement, built once (see
# "Statements" in db.py). Each query ends in the same three key columns.
_WRAPS = and_(CaseKey.case_id == Case.id, CaseKey.recipient_id == bindparam("user_id"))
_COPIES = and_(SessionKey.session_id == bindparam("session_id_of_keys"),
               SessionKey.case_id == CaseKey.case_id, SessionKey.purpose == CaseKey.purpose)
_KEY_COLUMNS = (CaseKey.purpose, CaseKey.wrapped, SessionKey.key_sealed)


def _with_keys(query: Select) -> Select:
    return query.outerjoin(CaseKey, _WRAPS).outerjoin(SessionKey, _COPIES)


@functools.cache
def _case_query() -> Select:
    return _with_keys(select(Case, *_KEY_COLUMNS)).where(Case.id == bindparam("case_id"))


@functools.cache
def _session_query() -> Select:
    return (_with_keys(
        select(Case, CounsellingSession, Note, *_KEY_COLUMNS)
        .join(CounsellingSession, and_(CounsellingSession.case_id == Case.id,
                                       CounsellingSession.id == bindparam("session_id")))
        .outerjoin(Note, Note.session_id == CounsellingSession.id))
        .where(Case.id == bindparam("case_id")))


@functools.cache
def _note_query() -> Select:
    # The note being saved, as plain values: loading the case, session and note as mapped
    # objects cost ~0.13 ms more a save.
    return (_with_keys(
        select(Case.counsellor_id, Note.id, Note.case_id, Note.session_id, Note.template,
               Note.status, Note.edit_version, *_KEY_COLUMNS)
        .select_from(Case)
        .join(Note, and_(Note.case_id == Case.id, Note.session_id == bindparam("session_id"))))
        .where(Case.id == bindparam("case_id")))


@functools.cache
def _client_case_query(with_next_booked: bool = False) -> Select:
    # The client's home also shows their next booked session: read with the case, in the
    # same statement.
    columns = [Case, next_booked_on(Case.id)] if with_next_booked else [Case]
    return (_with_keys(select(*columns, *_KEY_COLUMNS))
            .where(Case.client_id == bindparam("user_id")))


def _hand_keys(keyring: Keyring, case_id: str, rows: list) -> None:
    """Give the keyring the case's wraps and copies, from the three key columns that end each
    row (one row per key)."""
    keyring.add_wraps(case_id, {row[-3]: row[-2] for row in rows if row[-3] is not None})
    keyring.add_copies(case_id, {row[-3]: row[-1] for row in rows if row[-1] is not None})


def _rows(db: Session, keyring: Keyring, query: Select, **params: object) -> list:
    """The query's rows, after handing the case's wraps and copies to the keyring."""
    rows = db.execute(query, {"user_id": keyring.user.id,
                              "session_id_of_keys": keyring.session_id, **params}).all()
    if rows:
        _hand_keys(keyring, rows[0][0].id, rows)
    return rows


def client_case_with_keys(db: Session, keyring: Keyring) -> Case | None:
    """The case the keyring's client belongs to (None once it is erased), ready to open."""
    rows = _rows(db, keyring, _client_case_query())
    return rows[0][0] if rows else None


def client_case_and_next_session(db: Session, keyring: Keyring
                                 ) -> tuple[Case | None, date | None]:
    """client_case_with_keys, and the day of the case's next booked session (if any)."""
    rows = _rows(db, keyring, _client_case_query(with_next_booked=True), today=date.today())
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def own_case_with_keys(db: Session, keyring: Keyring, case_id: str) -> Case:
    """The case if it is the keyring's counsellor's, else NotFound; ready to open, with no
    further statement."""
    rows = _rows(db, keyring, _case_query(), case_id=case_id) if is_id(case_id) else []
    if not rows or not can_read_case(keyring.user, rows[0][0]):
        raise NotFound(case_id)
    return rows[0][0]


def own_session_with_keys(db: Session, keyring: Keyring, case_id: str, session_id: str
                          ) -> tuple[Case, CounsellingSession, Note | None]:
    """A session of one of the keyring's counsellor's cases and its note (if started), else
    NotFound; the case is ready to open."""
    rows = (_rows(db, keyring, _session_query(), case_id=case_id, session_id=session_id)
            if is_id(case_id) and is_id(session_id) else [])
    if not rows or not can_read_case(keyring.user, rows[0][0]):
        raise NotFound(session_id)
    case, session, note = rows[0][:3]
    return case, session, note


def own_note_with_keys(db: Session, keyring: Keyring, case_id: str, session_id: str
                       ) -> NoteRef:
    """The note of a session of one of the keyring's counsellor's cases, as plain values,
    else NotFound (also while no note is started); the case is ready to open."""
    rows = (db.connection().execute(_note_query(), {
        "user_id": keyring.user.id, "session_id_of_keys": keyring.session_id,
        "case_id": case_id, "session_id": session_id}).all()
        if is_id(case_id) and is_id(session_id) else [])
    if not rows or not can_read_case(keyring.user, rows[0]):
        raise NotFound(session_id)
    first = rows[0]
    _hand_keys(keyring, first.case_id, rows)
    return NoteRef(first.id, first.case_id, first.session_id, first.template, first.status,
                   first.edit_version)


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
