"""Reflections: drafts only the client can read, shared on the client's word, amended with
every earlier shared version kept, and read receipts the client can see."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, func, select, update
from sqlalchemy.orm import Session, defer

from .. import crypto
from ..cases.errors import Conflict, InvalidChange, Locked, NotFound
from ..db import keep_in_step, now_holds, read_columns
from ..keyring import Keyring
from ..models import (
    ANSWERED,
    CLIENT_ONLY,
    OPEN,
    SHARED,
    SHARED_SCOPE,
    Case,
    OpenQuestion,
    QuestionEvent,
    Reflection,
    ReflectionVersion,
    is_id,
    new_id,
    utcnow,
)

MAX_TEXT = 10_000  # characters per prompt; shown to the client before they reach it
MAX_ANSWER = 5_000
LIST_PAGE = 50  # reflections per page of the client's list
PROMPTS = ("stood_out", "helped", "hard", "for_counsellor")


@dataclass
class ReflectionContent:
    """Everything a client writes in one reflection."""

    stood_out: str = ""
    helped: str = ""
    hard: str = ""
    for_counsellor: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # open question id -> answer
    week_rating: int | None = None
    session_rating: int | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, p).strip() for p in PROMPTS) and not any(
            a.strip() for a in self.answers.values()) and self.week_rating is None and (
            self.session_rating is None)


@dataclass
class ReflectionView:
    reflection: Reflection
    version: ReflectionVersion
    content: ReflectionContent
    read_at: datetime | None = None
    amending: bool = False


def clean(content: ReflectionContent) -> ReflectionContent:
    """Check limits; normalise line endings. Raises InvalidChange naming the field."""
    for prompt in PROMPTS:
        text = (getattr(content, prompt) or "").replace("\r\n", "\n")
        if len(text) > MAX_TEXT:
            raise InvalidChange(prompt)
        setattr(content, prompt, text)
    answers = {}
    for question_id, text in content.answers.items():
        text = (text or "").replace("\r\n", "\n")
        if not is_id(question_id) or len(text) > MAX_ANSWER:
            raise InvalidChange("answers")
        if text.strip():
            answers[question_id] = text
    content.answers = answers
    for rating in ("week_rating", "session_rating"):
        value = getattr(content, rating)
        if value is not None and not (isinstance(value, int) and 0 <= value <= 10):
            raise InvalidChange(rating)
    return content


class _Draft(NamedTuple):
    """The working draft's row as plain values: what sealing it needs (see _claim_draft)."""

    id: str
    case_id: str
    scope: str
    content_sealed: bytes


def _ref(version: ReflectionVersion | _Draft) -> crypto.FieldRef:
    # The scope is part of the column name, so a draft can never be opened as shared text.
    return crypto.FieldRef("reflection_versions", version.id, f"content/{version.scope}",
                           version.case_id)


def _key_for(keyring: Keyring, version: ReflectionVersion | _Draft) -> bytes:
    if version.scope == CLIENT_ONLY:
        return keyring.draft_key()
    return keyring.case_key(version.case_id, SHARED)


def _seal(keyring: Keyring, version: ReflectionVersion | _Draft, content: ReflectionContent,
          old: bytes | None) -> bytes:
    text = json.dumps(asdict(content), ensure_ascii=False)
    return crypto.reseal_field(_key_for(keyring, version), old, text, _ref(version))


def open_version(keyring: Keyring, version: ReflectionVersion) -> ReflectionContent:
    """Decrypt one version with whichever key its scope names."""
    data = json.loads(crypto.open_field(_key_for(keyring, version), version.content_sealed,
                                        _ref(version)))
    return ReflectionContent(**data)


def _latest(db: Session, reflection: Reflection, scope: str | None = None
            ) -> ReflectionVersion | None:
    query = select(ReflectionVersion).where(ReflectionVersion.reflection_id == reflection.id)
    if scope:
        query = query.where(ReflectionVersion.scope == scope)
    return db.scalar(query.order_by(ReflectionVersion.number.desc()).limit(1))


# --- the client's side ------------------------------------------------------------------------


def client_reflection(db: Session, case: Case, reflection_id: str) -> Reflection:
    """A reflection of this case written by its client (the one signed in, whose case it is:
    routes pass the case `my_case()` found for them), else NotFound."""
    reflection = db.get(Reflection, reflection_id) if is_id(reflection_id) else None
    if (reflection is None or case.client_id is None or reflection.case_id != case.id
            or reflection.client_id != case.client_id):
        raise NotFound(reflection_id)
    return reflection


def start(db: Session, keyring: Keyring, case: Case) -> Reflection:
    """A new, empty draft (sealed with the client's own key)."""
    if case.status != "open":
        raise Locked()
    reflection = Reflection(id=new_id(), case_id=case.id, client_id=keyring.user.id,
                            status="draft", edit_version=1)
    db.add(reflection)
    db.flush()
    _add_version(db, keyring, reflection, 1, ReflectionContent())
    return reflection


def _add_version(db: Session, keyring: Keyring, reflection: Reflection, number: int,
                 content: ReflectionContent) -> ReflectionVersion:
    version = ReflectionVersion(id=new_id(), reflection_id=reflection.id,
                                case_id=reflection.case_id, number=number, scope=CLIENT_ONLY,
                                content_sealed=b"")
    version.content_sealed = _seal(keyring, version, content, None)
    db.add(version)
    return version


def working_copy(db: Session, keyring: Keyring, reflection: Reflection) -> ReflectionView:
    """What the client sees when opening a reflection: the draft, or the latest shared text."""
    version = _latest(db, reflection)
    content = open_version(keyring, version)
    shared = _latest(db, reflection, SHARED_SCOPE)
    return ReflectionView(reflection, version, content,
                          read_at=shared.read_at if shared else None,
                          amending=version.scope == CLIENT_ONLY and shared is not None)


# Saving and sharing run plain statements on the tables, built once (see "Statements" in
# db.py): ORM-enabled updates and the unit of work cost several times as much (notes.py does
# the same). Objects this session has loaded are kept in step by hand (keep_in_step).
_REFLECTIONS, _VERSIONS = Reflection.__table__, ReflectionVersion.__table__
_CLAIM = (update(_REFLECTIONS)
          .where(_REFLECTIONS.c.id == bindparam("reflection_id"),
                 _REFLECTIONS.c.edit_version == bindparam("expected"))
          .values(edit_version=bindparam("next_version"), updated_at=bindparam("now")))
_LATEST_DRAFT = (select(_VERSIONS.c.id, _VERSIONS.c.case_id, _VERSIONS.c.scope,
                        _VERSIONS.c.content_sealed)
                 .where(_VERSIONS.c.reflection_id == bindparam("reflection_id"))
                 .order_by(_VERSIONS.c.number.desc()).limit(1))
_RESEAL = (update(_VERSIONS).where(_VERSIONS.c.id == bindparam("version_id"))
           .values(content_sealed=bindparam("sealed")))
_SHARE_VERSION = (update(_VERSIONS).where(_VERSIONS.c.id == bindparam("version_id"))
                  .values(scope=SHARED_SCOPE, shared_at=bindparam("now"),
                          content_sealed=bindparam("sealed")))
_SHARE_REFLECTION = (update(_REFLECTIONS).where(_REFLECTIONS.c.id == bindparam("reflection_id"))
                     .values(status="shared", shared_at=bindparam("shared_at")))


def _claim(db: Session, reflection: Reflection, expected_version: int) -> int:
    """Bump edit_version unless another tab saved since `expected_version` (then Conflict)."""
    now = utcnow()
    result = db.connection().execute(_CLAIM, {
        "reflection_id": reflection.id, "expected": expected_version,
        "next_version": expected_version + 1, "now": now})
    if result.rowcount != 1:
        raise Conflict()
    # The row now holds exactly these values: no need to read it back.
    now_holds(reflection, edit_version=expected_version + 1, updated_at=now)
    return reflection.edit_version


def _claim_draft(db: Session, reflection: Reflection, content: ReflectionContent,
                 expected_version: int) -> tuple[_Draft, ReflectionContent]:
    """The working draft, claimed for this save; Locked once the case is closed or nothing is
    in draft, Conflict if another tab saved since `expected_version`."""
    db.flush()  # the plain statements below do not flush a pending draft (start()) themselves
    case = db.get(Case, reflection.case_id)  # the route's my_case() left it in the session
    if case is None or case.status != "open":
        raise Locked()  # a closed case is read-only for the client, autosave included
    row = read_columns(db, _LATEST_DRAFT, {"reflection_id": reflection.id}).first()
    if row is None or row.scope != CLIENT_ONLY:
        raise Locked()
    content = clean(content)
    _claim(db, reflection, expected_version)
    return _Draft(**row._mapping), content


def save_draft(db: Session, keyring: Keyring, reflection: Reflection,
               content: ReflectionContent, expected_version: int) -> int:
    """Autosave: re-seal the working draft with the client's own key. Returns the new version."""
    draft, content = _claim_draft(db, reflection, content, expected_version)
    sealed = _seal(keyring, draft, content, draft.content_sealed)
    db.connection().execute(_RESEAL, {"version_id": draft.id, "sealed": sealed})
    keep_in_step(db, ReflectionVersion, draft.id, content_sealed=sealed)
    return reflection.edit_version


def share(db: Session, keyring: Keyring, reflection: Reflection, content: ReflectionContent,
          expected_version: int) -> None:
    """Share with the counsellor: the draft becomes shared text, sealed under the shared case
    key (in one step: the client's own key never seals this text again)."""
    draft, content = _claim_draft(db, reflection, content, expected_version)
    now = utcnow()
    sealed = _seal(keyring, draft._replace(scope=SHARED_SCOPE), content, None)
    first_shared = reflection.shared_at or now
    conn = db.connection()
    conn.execute(_SHARE_VERSION, {"version_id": draft.id, "now": now, "sealed": sealed})
    conn.execute(_SHARE_REFLECTION, {"reflection_id": reflection.id, "shared_at": first_shared})
    keep_in_step(db, ReflectionVersion, draft.id, scope=SHARED_SCOPE, shared_at=now,
                 content_sealed=sealed)
    now_holds(reflection, status="shared", shared_at=first_shared)
    _mark_answered(db, keyring, reflection, content)


def _mark_answered(db: Session, keyring: Keyring, reflection: Reflection,
                   content: ReflectionContent) -> None:
    """Open questions answered in this reflection move to 'answered', linked to it."""
    if not content.answers:
        return
    questions = db.scalars(select(OpenQuestion).where(
        OpenQuestion.case_id == reflection.case_id, OpenQuestion.id.in_(content.answers),
        OpenQuestion.state == OPEN)).all()
    for question in questions:
        db.add(QuestionEvent(id=new_id(), question_id=question.id, case_id=question.case_id,
                             from_state=OPEN, to_state=ANSWERED, reflection_id=reflection.id,
                             actor_id=keyring.user.id))
        question.state = ANSWERED
        question.state_changed_at = utcnow()


def start_amendment(db: Session, keyring: Keyring, reflection: Reflection) -> None:
    """Start changing a shared reflection: a new draft version, the shared one kept as it is."""
    latest = _latest(db, reflection)
    if latest is None or latest.scope == CLIENT_ONLY:
        return  # already amending, or never shared
    content = open_version(keyring, latest)
    _add_version(db, keyring, reflection, latest.number + 1, content)


@dataclass
class ReflectionListing:
    """A reflection as the client's list shows it: dates and receipts, no text."""

    reflection: ReflectionDates
    read_at: datetime | None
    amending: bool


@dataclass
class ReflectionListPage:
    rows: list[ReflectionListing]
    page: int
    has_more: bool


class ReflectionDates(NamedTuple):
    """What a list shows of a reflection: a row of columns, not a tracked ORM object (building
    fifty of those cost a fifth of the client's home page)."""

    id: str
    status: str
    created_at: datetime
    shared_at: datetime | None


@functools.cache
def _client_list_query(paged: bool) -> Select:
    # Built once, bound per request (see "Statements" in db.py). No ciphertext is read: the
    # list shows dates and read receipts only. The page is chosen first on the sort keys;
    # only its rows look up their versions, in the same statement: the latest version's
    # scope, whether any version was shared, and when the latest shared one was read.
    chosen = select(Reflection.id, Reflection.created_at).where(
        Reflection.case_id == bindparam("case_id"), Reflection.client_id == bindparam("client_id"),
    ).order_by(Reflection.created_at.desc(), Reflection.id)
    if paged:
        chosen = chosen.limit(bindparam("size")).offset(bindparam("skip"))
    page = chosen.subquery()

    def latest(column: ColumnElement, *where: ColumnElement) -> ScalarSelect:
        return (select(column).where(ReflectionVersion.reflection_id == Reflection.id, *where)
                .order_by(ReflectionVersion.number.desc()).limit(1).scalar_subquery())

    shared = ReflectionVersion.scope == SHARED_SCOPE
    return (select(Reflection.id, Reflection.status, Reflection.created_at, Reflection.shared_at,
                   latest(ReflectionVersion.scope), latest(ReflectionVersion.number, shared),
                   latest(ReflectionVersion.read_at, shared))
            .select_from(page).join(Reflection, Reflection.id == page.c.id)
            .order_by(page.c.created_at.desc(), page.c.id))


def for_client(db: Session, keyring: Keyring, case: Case, page: int | None = 1
               ) -> ReflectionListPage:
    """The client's reflections in this case, newest first, with read receipts: one page of
    LIST_PAGE (all of them with page=None) — one query however many there are."""
    number = max(page or 1, 1)
    rows = read_columns(db, _client_list_query(page is not None), {
        "case_id": case.id, "client_id": keyring.user.id, "size": LIST_PAGE + 1,
        "skip": (number - 1) * LIST_PAGE}).all()
    has_more = page is not None and len(rows) > LIST_PAGE
    listed = [ReflectionListing(ReflectionDates(*row[:4]), read_at=row[6],
                                amending=row[4] == CLIENT_ONLY and row[5] is not None)
              for row in rows[:LIST_PAGE]]
    return ReflectionListPage(listed, number, has_more)


# --- the counsellor's side --------------------------------------------------------------------


def shared_in_case(db: Session, case: Case, reflection_id: str) -> Reflection:
    """A shared reflection of this case, else NotFound (drafts do not exist to a counsellor)."""
    reflection = db.get(Reflection, reflection_id) if is_id(reflection_id) else None
    if reflection is None or reflection.case_id != case.id or reflection.status != "shared":
        raise NotFound(reflection_id)
    return reflection


def shared_versions(db: Session, keyring: Keyring, reflection: Reflection
                    ) -> list[tuple[ReflectionVersion, ReflectionContent]]:
    """Every shared version, oldest first (the client's unshared amendment is not among them)."""
    versions = db.scalars(select(ReflectionVersion).where(
        ReflectionVersion.reflection_id == reflection.id,
        ReflectionVersion.scope == SHARED_SCOPE,
    ).order_by(ReflectionVersion.number)).all()
    return [(v, open_version(keyring, v)) for v in versions]


def mark_read(version: ReflectionVersion) -> bool:
    """The counsellor opened this version: a read receipt the client will see."""
    if version.read_at is None:
        version.read_at = utcnow()
        return True
    return False


@dataclass
class SharedEntry:
    """A shared reflection as the case timeline and brief list it."""

    reflection: Reflection
    latest: ReflectionVersion
    unread: bool
    versions: int


@functools.cache
def _shared_queries(since: bool, before: bool, with_content: bool) -> tuple[Select, Select]:
    # Built once per variant, bound per request (see "Statements" in db.py).
    reflections = select(Reflection).where(Reflection.case_id == bindparam("case_id"),
                                           Reflection.status == "shared")
    if since:
        reflections = reflections.where(Reflection.shared_at >= bindparam("since"))
    if before:
        reflections = reflections.where(Reflection.shared_at < bindparam("before"))
    versions = select(ReflectionVersion).where(
        ReflectionVersion.reflection_id.in_(bindparam("ids", expanding=True)),
        ReflectionVersion.scope == SHARED_SCOPE,
    ).order_by(ReflectionVersion.number)
    if not with_content:
        versions = versions.options(defer(ReflectionVersion.content_sealed, raiseload=True))
    return reflections.order_by(Reflection.shared_at.desc()), versions


def shared_entries(db: Session, case: Case, since: datetime | None = None,
                   before: datetime | None = None, with_content: bool = True
                   ) -> list[SharedEntry]:
    """Shared reflections of the case (newest first) — two queries, whatever their number.

    `since`/`before` bound `shared_at` (a timeline page needs only its own dates); without
    `with_content` the ciphertext is not even fetched, and touching it raises.
    """
    reflections_query, versions_query = _shared_queries(since is not None, before is not None,
                                                        with_content)
    reflections = db.scalars(reflections_query, {"case_id": case.id, "since": since,
                                                 "before": before}).all()
    if not reflections:
        return []
    rows = db.scalars(versions_query, {"ids": [r.id for r in reflections]}).all()
    latest: dict[str, ReflectionVersion] = {}
    counts: dict[str, int] = {}
    for row in rows:
        latest[row.reflection_id] = row
        counts[row.reflection_id] = counts.get(row.reflection_id, 0) + 1
    return [SharedEntry(r, latest[r.id], latest[r.id].read_at is None, counts[r.id])
            for r in reflections if r.id in latest]


def unread_counts(db: Session, case_ids: list[str]) -> dict[str, int]:
    """How many shared reflection versions each case has that the counsellor has not opened."""
    if not case_ids:
        return {}
    rows = db.execute(select(ReflectionVersion.case_id, func.count()).where(
        ReflectionVersion.case_id.in_(case_ids), ReflectionVersion.scope == SHARED_SCOPE,
        ReflectionVersion.read_at.is_(None),
    ).group_by(ReflectionVersion.case_id)).all()
    return dict(rows)
