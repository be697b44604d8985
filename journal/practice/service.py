"""What the practice admin sees: counts and colleagues, never content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..models import (
    COUNSELLOR,
    Case,
    CounsellingSession,
    CounsellorInvitation,
    Practice,
    User,
    utcnow,
)


@dataclass
class PracticeHealth:
    name: str
    counsellors: int
    clients: int
    open_cases: int
    closed_cases: int
    sessions: int


def health(db: Session) -> PracticeHealth:
    """Counts only. The admin role opens no case key."""
    practice = db.get(Practice, 1)

    def count(query: Select) -> int:
        return db.scalar(query) or 0

    return PracticeHealth(
        name=practice.name if practice else "",
        counsellors=count(select(func.count()).select_from(User).where(User.role == COUNSELLOR)),
        clients=count(select(func.count()).select_from(User).where(User.role != COUNSELLOR)),
        open_cases=count(select(func.count()).select_from(Case).where(Case.status == "open")),
        closed_cases=count(select(func.count()).select_from(Case).where(Case.status == "closed")),
        sessions=count(select(func.count()).select_from(CounsellingSession)),
    )


def counsellors(db: Session) -> list[User]:
    """Every counsellor of the practice, oldest first."""
    return list(db.scalars(select(User).where(User.role == COUNSELLOR)
                           .order_by(User.created_at)).all())


def pending_invitations(db: Session) -> list[CounsellorInvitation]:
    """Invitations not yet used, revoked or expired."""
    return list(db.scalars(select(CounsellorInvitation).where(
        CounsellorInvitation.used_at.is_(None), CounsellorInvitation.revoked_at.is_(None),
        CounsellorInvitation.expires_at > utcnow(),
    ).order_by(CounsellorInvitation.created_at)).all())


def practice_name(db: Session) -> str:
    """The practice's name for page headers."""
    practice = db.get(Practice, 1)
    return practice.name if practice else ""
