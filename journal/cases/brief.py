"""The pre-session brief: what a counsellor reads five minutes before the client arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..keyring import Keyring
from ..models import ATTENDED, SCHEDULED, Case, CounsellingSession, Note
from ..portal import reflections as reflections_service
from . import notes, questions

TREND_POINTS = 12


@dataclass
class Answered:
    question: questions.QuestionView
    answer: str = ""
    reflection_id: str | None = None


@dataclass
class RatingTrend:
    """A rating over time, ready to draw: values 0–10, oldest first, and the latest change."""

    values: list[int] = field(default_factory=list)
    dates: list[datetime] = field(default_factory=list)

    @property
    def change(self) -> int | None:
        return self.values[-1] - self.values[-2] if len(self.values) >= 2 else None

    def points(self, width: int = 240, height: int = 60, pad: int = 6) -> str:
        """SVG polyline points, x spread evenly, 10 at the top."""
        if not self.values:
            return ""
        step = (width - 2 * pad) / max(len(self.values) - 1, 1)
        return " ".join(f"{pad + i * step:.1f},{pad + (10 - v) * (height - 2 * pad) / 10:.1f}"
                        for i, v in enumerate(self.values))


@dataclass
class Brief:
    next_session: CounsellingSession | None
    last_session: CounsellingSession | None
    carried: list[Answered]
    reflections: list[tuple[reflections_service.SharedEntry,
                            reflections_service.ReflectionContent]]
    week: RatingTrend
    session: RatingTrend
    plan: str
    plan_from: CounsellingSession | None


def _plan_of(note: Note, sections: dict[str, str]) -> str:
    if note.template != "narrative":
        return sections.get("plan", "")
    lines, keep = [], False
    for line in sections.get("narrative", "").splitlines():
        heading = line.strip().endswith(":")
        if heading:
            keep = line.strip().lower().startswith("plan")
            continue
        if keep:
            lines.append(line)
    return "\n".join(lines).strip()


def build(db: Session, keyring: Keyring, case: Case, today: date | None = None) -> Brief:
    """Everything for the next session of this case, decrypted in memory."""
    today = today or date.today()
    sessions = db.scalars(select(CounsellingSession).where(
        CounsellingSession.case_id == case.id).order_by(CounsellingSession.number)).all()
    upcoming = [s for s in sessions if s.attendance == SCHEDULED and s.held_on >= today]
    held = [s for s in sessions if s.attendance == ATTENDED and s.held_on <= today]
    next_session = upcoming[0] if upcoming else None
    last_session = held[-1] if held else None

    # Every shared reflection once: the trend needs all, the brief those since last time.
    entries = reflections_service.shared_entries(db, case)
    opened = [(e, reflections_service.open_version(keyring, e.latest)) for e in entries]
    since = datetime.combine(last_session.held_on, time.min) if last_session else None
    recent = [(e, c) for e, c in opened if since is None or e.reflection.shared_at >= since]

    answers: dict[str, tuple[str, str]] = {}
    for entry, content in reversed(opened):  # oldest first, so the newest answer wins
        for question_id, text in content.answers.items():
            answers[question_id] = (text, entry.reflection.id)
    carried = []
    for view in questions.still_open(db, keyring, case):
        text, reflection_id = answers.get(view.question.id, ("", None))
        carried.append(Answered(view, text, reflection_id))

    week, session_trend = RatingTrend(), RatingTrend()
    for entry, content in reversed(opened[:TREND_POINTS]):
        for trend, value in ((week, content.week_rating), (session_trend, content.session_rating)):
            if value is not None:
                trend.values.append(value)
                trend.dates.append(entry.reflection.shared_at)

    plan, plan_from = "", None
    last = db.execute(
        select(Note, CounsellingSession)
        .join(CounsellingSession, CounsellingSession.id == Note.session_id)
        .where(Note.case_id == case.id, CounsellingSession.attendance != SCHEDULED)
        .order_by(CounsellingSession.number.desc()).limit(1)).first()
    if last is not None:
        note, plan_from = last
        plan = _plan_of(note, notes.current_revision(db, keyring, note).sections)
    return Brief(next_session, last_session, carried, recent, week, session_trend, plan,
                 plan_from)
