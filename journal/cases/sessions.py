"""Sessions of a case: add, edit, and the case timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ATTENDANCE, Case, CounsellingSession, Note, OpenQuestion, new_id
from .errors import InvalidChange

TIMELINE_PAGE = 50
_DAY = timedelta(days=1)


@dataclass
class TimelineEntry:
    session: CounsellingSession
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
    return session


def update_session(session: CounsellingSession, held_on: date, duration_minutes: int,
                   attendance: str) -> None:
    """Correct a session's date, length or attendance."""
    if attendance not in ATTENDANCE:
        raise InvalidChange(attendance)
    session.held_on, session.duration_minutes, session.attendance = (
        held_on, duration_minutes, attendance)


def timeline(db: Session, case: Case, page: int = 1) -> tuple[list[TimelineEntry], bool]:
    """Newest sessions first with their note status and question counts; one query a page."""
    asked = (select(OpenQuestion.asked_in_session_id.label("sid"), func.count().label("n"))
             .where(OpenQuestion.case_id == case.id)
             .group_by(OpenQuestion.asked_in_session_id).subquery())
    rows = db.execute(
        select(CounsellingSession, Note.status, asked.c.n)
        .outerjoin(Note, Note.session_id == CounsellingSession.id)
        .outerjoin(asked, asked.c.sid == CounsellingSession.id)
        .where(CounsellingSession.case_id == case.id)
        .order_by(CounsellingSession.number.desc())
        .limit(TIMELINE_PAGE + 1).offset((max(page, 1) - 1) * TIMELINE_PAGE)
    ).all()
    entries = [TimelineEntry(s, status, n or 0) for s, status, n in rows[:TIMELINE_PAGE]]
    return entries, len(rows) > TIMELINE_PAGE


def previous_session(db: Session, session: CounsellingSession) -> CounsellingSession | None:
    """The session just before this one in the same case."""
    return db.scalar(select(CounsellingSession).where(
        CounsellingSession.case_id == session.case_id,
        CounsellingSession.number < session.number,
    ).order_by(CounsellingSession.number.desc()).limit(1))


def interleave(entries: list[TimelineEntry], shared: list[Any], first_page: bool,
               last_page: bool) -> list[tuple[str, Any]]:
    """Sessions and shared reflections, newest first, each reflection between the sessions it
    fell between. A page shows the reflections that fall within its sessions' dates."""
    if not entries:
        return [("reflection", r) for r in shared] if first_page else []
    newest = datetime.combine(entries[0].session.held_on, time.min)
    oldest = datetime.combine(entries[-1].session.held_on, time.min)
    items: list[tuple[datetime, int, str, Any]] = [
        (datetime.combine(e.session.held_on, time.min), 0, "session", e) for e in entries]
    for r in shared:
        at = r.reflection.shared_at
        if (at >= oldest or last_page) and (at < newest + _DAY or first_page):
            items.append((at, 1, "reflection", r))
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(kind, item) for _at, _order, kind, item in items]
