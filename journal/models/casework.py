"""Cases and everything clinical that hangs off them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .common import id_column, utcnow

# Purposes of the two case keys (DESIGN 3.2).
PRIVATE = "private"  # counsellor only: notes, people, client profile
SHARED = "shared"  # counsellor and client: open questions, reflections, ratings

ATTENDED = "attended"
CANCELLED = "cancelled"
DID_NOT_ATTEND = "did_not_attend"
SCHEDULED = "scheduled"
ATTENDANCE = (SCHEDULED, ATTENDED, CANCELLED, DID_NOT_ATTEND)

OPEN = "open"
ANSWERED = "answered"
RESOLVED = "resolved"
PARKED = "parked"
QUESTION_STATES = (OPEN, ANSWERED, RESOLVED, PARKED)

DRAFT = "draft"
SIGNED = "signed"


class Case(Base):
    """One counsellor–client relationship."""

    __tablename__ = "cases"

    id: Mapped[str] = id_column()
    counsellor_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A short, random, non-identifying handle such as C-7F3K.
    pseudonym: Mapped[str] = mapped_column(String(12), unique=True)
    # Who is whose client is stored in the clear, by id only (DESIGN 3).
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="open")
    # The earliest of the case's sessions still marked scheduled, whatever its date (kept by
    # cases/sessions.py): the dashboard sorts on it without a subquery per case, and looks
    # further only where it has passed. A session date is not clinical (DESIGN 3).
    first_scheduled_on: Mapped[date | None] = mapped_column(Date)
    # Client profile (name, preferred name, date of birth, contact) under the private case key.
    profile_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class CaseKey(Base):
    """One case key HPKE-wrapped to one member (DESIGN 3.2)."""

    __tablename__ = "case_keys"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(12), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class DirectoryEntry(Base):
    """The client's display name, sealed under the counsellor's directory key for the dashboard."""

    __tablename__ = "directory_entries"

    id: Mapped[str] = id_column()
    counsellor_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True
    )
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class CounsellingSession(Base):
    """One meeting. Date, number, length and attendance are not sealed (DESIGN 3)."""

    __tablename__ = "case_sessions"
    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        # The dashboard's "next session" of each case: an index range, not the case's rows.
        Index("ix_case_sessions_case_attendance_held_on", "case_id", "attendance", "held_on"),
    )

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    attendance: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Note(Base):
    """The counsellor's note on a session: a draft until signed, then only amended."""

    __tablename__ = "notes"

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("case_sessions.id", ondelete="CASCADE"), unique=True
    )
    template: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    # Optimistic lock: every save must name the edit it started from.
    edit_version: Mapped[int] = mapped_column(Integer, default=1)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NoteRevision(Base):
    """One kept version of a note: the working draft, the signed text, or an amendment."""

    __tablename__ = "note_revisions"
    __table_args__ = (UniqueConstraint("note_id", "number"),)

    id: Mapped[str] = id_column()
    note_id: Mapped[str] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # draft | signed | amendment
    # JSON of the template's sections, under the private case key.
    content_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OpenQuestion(Base):
    """Something asked or left open in a session; sealed under the shared case key."""

    __tablename__ = "open_questions"
    # The dashboard counts each case's open questions from the index alone.
    __table_args__ = (Index("ix_open_questions_case_state", "case_id", "state"),)

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    asked_in_session_id: Mapped[str] = mapped_column(
        ForeignKey("case_sessions.id", ondelete="CASCADE"), index=True
    )
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(12), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QuestionEvent(Base):
    """How an open question moved; the outcome is the counsellor's, under the private key."""

    __tablename__ = "question_events"

    id: Mapped[str] = id_column()
    question_id: Mapped[str] = mapped_column(
        ForeignKey("open_questions.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_sessions.id", ondelete="SET NULL")
    )
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    outcome_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Set when a client's shared reflection answered the question.
    reflection_id: Mapped[str | None] = mapped_column(
        ForeignKey("reflections.id", ondelete="SET NULL")
    )
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Person(Base):
    """Someone in the client's life: name and relation, under the private case key."""

    __tablename__ = "people"

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    relation_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
