"""Sessions of a case: add, edit, and the case timeline."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session

from ..db import read_columns
from ..models import ATTENDANCE, SCHEDULED, Case, CounsellingSession, Note, OpenQuestion, new_id
from .errors import InvalidChange

TIMELINE_PAGE = 50
_DAY = timedelta(days=1)


class SessionLine(NamedTuple):
    """The columns of a session a timeline line shows (loading whole ORM objects for a page of
    fifty cost more than the query)."""

    id: str
    number: int
    held_on: date
    duration_minutes: int
    attendance: str


@dataclass
class TimelineEntry:
    session: SessionLine
    note_status: str | None
    questions_asked: int


def add_session(db: Session, case: Case, held_on: date, duration_minutes: int,
                attendance: str) -> CounsellingSession:
    """A new session, numbered after the case's last one."""
    if attendance not in ATTENDANCE:
        raise InvalidChange(attendance)
    last = db.scalar(select(func.max(CounsellingSession.number)).where(
        CounsellingSession.case_id == case.id)) or 0
    session = CounsellingSession(id=new_id(), case_id=case.id, number=last + 1, held_on=held_on,
                                 duration_minutes=duration_minutes, attendance=attendance)
    db.add(session)
    if attendance == SCHEDULED:
        _keep_first_scheduled(db, case)
    return session


@functools.cache
def _first_scheduled_query() -> Select:
    return (select(func.min(CounsellingSession.held_on))
            .where(CounsellingSession.case_id == bindparam("case_id"),
                   CounsellingSession.attendance == SCHEDULED))


def update_session(db: Session, case: Case, session: CounsellingSession, held_on: date,
                   duration_minutes: int, attendance: str) -> None:
    """Correct a session's date, length or attendance."""
    if attendance not in ATTENDANCE:
        raise InvalidChange(attendance)
    session.held_on, session.duration_minutes, session.attendance = (
        held_on, duration_minutes, attendance)
    # Moving or marking one session can move the case's earliest scheduled one anywhere.
    _keep_first_scheduled(db, case)


def _keep_first_scheduled(db: Session, case: Case) -> None:
    """Work the case's first scheduled session out again, from the rows as committed by
    anyone: two people changing a case's sessions at once must not leave the older answer.
    The flush writes this change first (on SQLite, taking the write lock every writer
    queues for); on PostgreSQL the case row is locked, so a concurrent writer's statement
    runs after this commit and sees it."""
    db.flush()
    db.execute(_lock_case_query(), {"case_id": case.id})
    case.first_scheduled_on = db.scalar(_first_scheduled_query(), {"case_id": case.id})


@functools.cache
def _lock_case_query() -> Select:
    return select(Case.id).where(Case.id == bindparam("case_id")).with_for_update()


@functools.cache
def _timeline_query() -> Select:
    # Built once, bound per request (see "Statements" in db.py).
    case_id = bindparam("case_id")
    asked = (select(OpenQuestion.asked_in_session_id.label("sid"), func.count().label("n"))
             .where(OpenQuestion.case_id == case_id)
             .group_by(OpenQuestion.asked_in_session_id).subquery())
    return (select(CounsellingSession.id, CounsellingSession.number, CounsellingSession.held_on,
                   CounsellingSession.duration_minutes, CounsellingSession.attendance,
                   Note.status, asked.c.n)
            .outerjoin(Note, Note.session_id == CounsellingSession.id)
            .outerjoin(asked, asked.c.sid == CounsellingSession.id)
            .where(CounsellingSession.case_id == case_id)
            .order_by(CounsellingSession.number.desc())
            .limit(bindparam("size")).offset(bindparam("skip")))


def timeline(db: Session, case: Case, page: int = 1) -> tuple[list[TimelineEntry], bool]:
    """Newest sessions first with their note status and question counts; one query a page."""
    rows = read_columns(db, _timeline_query(), {
        "case_id": case.id, "size": TIMELINE_PAGE + 1,
        "skip": (max(page, 1) - 1) * TIMELINE_PAGE}).all()
    entries = [TimelineEntry(SessionLine(*row[:5]), row[5], row[6] or 0)
               for row in rows[:TIMELINE_PAGE]]
    return entries, len(rows) > TIMELINE_PAGE


def next_booked_on(case_id: ColumnElement[str]) -> ScalarSelect[date]:
    """The day of the case's next scheduled session from the bound `today` on (NULL when none
    is booked), as a column for a query that reads the case."""
    return (select(CounsellingSession.held_on)
            .where(CounsellingSession.case_id == case_id,
                   CounsellingSession.attendance == SCHEDULED,
                   CounsellingSession.held_on >= bindparam("today"))
            .order_by(CounsellingSession.held_on).limit(1).scalar_subquery())


def previous_session(db: Session, session: CounsellingSession) -> CounsellingSession | None:
    """The session just before this one in the same case."""
    return db.scalar(select(CounsellingSession).where(
        CounsellingSession.case_id == session.case_id,
        CounsellingSession.number < session.number,
    ).order_by(CounsellingSession.number.desc()).limit(1))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min)


def _end_of(day: date) -> datetime:
    """The first moment after this day; for the last day a date can hold (a session saved
    as 9999-12-31 before dates were checked), the last moment there is."""
    return _start_of(day) + _DAY if day < date.max else datetime.max


def reflection_window(entries: list[TimelineEntry], first_page: bool, last_page: bool
                      ) -> tuple[datetime | None, datetime | None]:
    """The `shared_at` bounds (since, before) of the reflections `interleave` places on this
    page, so a page of a long case fetches only its own; None where the page is open-ended."""
    if not entries:
        return None, None
    since = None if last_page else _start_of(entries[-1].session.held_on)
    before = None if first_page else _end_of(entries[0].session.held_on)
    return since, before


def interleave(entries: list[TimelineEntry], shared: list[Any], first_page: bool,
               last_page: bool) -> list[tuple[str, Any]]:
    """Sessions and shared reflections, newest first, each reflection between the sessions it
    fell between. A page shows the reflections that fall within its sessions' dates."""
    if not entries:
        return [("reflection", r) for r in shared] if first_page else []
    after_newest = _end_of(entries[0].session.held_on)
    oldest = _start_of(entries[-1].session.held_on)
    items: list[tuple[datetime, int, str, Any]] = [
        (_start_of(e.session.held_on), 0, "session", e) for e in entries]
    for r in shared:
        at = r.reflection.shared_at
        if (at >= oldest or last_page) and (at < after_newest or first_page):
            items.append((at, 1, "reflection", r))
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(kind, item) for _at, _order, kind, item in items]
