"""Cases: create, list on the dashboard, edit the client profile, close, reopen, erase."""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import asdict, dataclass, fields
from datetime import date

from sqlalchemy import Date, Select, bindparam, delete, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from .. import crypto
from ..db import read_columns
from ..keyring import Keyring
from ..models import (
    OPEN,
    PRIVATE,
    SCHEDULED,
    SHARED,
    SHARED_SCOPE,
    Case,
    CaseKey,
    ClientInvitation,
    CounsellingSession,
    DirectoryEntry,
    Note,
    NoteRevision,
    OpenQuestion,
    Person,
    QuestionEvent,
    Reflection,
    ReflectionVersion,
    SessionKey,
    User,
    WebSession,
    new_id,
    utcnow,
)
from .sealing import seal_json, unseal_json

PAGE_SIZE = 50
NEVER = date.max  # the dashboard's sort key for a case with no session booked
# No 0/O, 1/I/L: a pseudonym is read aloud in supervision and typed to confirm erasure.
_PSEUDONYM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass
class ClientProfile:
    """Who the client is. Sealed under the private case key; never leaves the counsellor."""

    name: str
    preferred_name: str = ""
    date_of_birth: str = ""  # ISO date or empty
    contact: str = ""
    aliases: str = ""  # comma-separated nicknames and spellings, for the anonymiser

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]

    @property
    def display_name(self) -> str:
        if self.preferred_name and self.preferred_name != self.name:
            return f"{self.name} ({self.preferred_name})"
        return self.name


@dataclass
class DashboardRow:
    case_id: str
    pseudonym: str
    status: str
    display_name: str
    next_session: date | None
    open_questions: int
    unread: int


@dataclass
class DashboardPage:
    rows: list[DashboardRow]
    page: int
    has_more: bool


def _new_pseudonym(db: Session) -> str:
    while True:
        candidate = "C-" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(4))
        if db.scalar(select(Case.id).where(Case.pseudonym == candidate)) is None:
            return candidate


def _seal_directory_name(keyring: Keyring, entry_id: str, case_id: str, profile: ClientProfile,
                         old: bytes | None = None) -> bytes:
    return seal_json(keyring.directory_key(), {"display": profile.display_name},
                     "directory_entries", entry_id, "name", case_id, old)


def create_case(db: Session, keyring: Keyring, profile: ClientProfile) -> Case:
    """A new case with fresh private and shared keys wrapped to its counsellor."""
    counsellor = keyring.user
    case_id = new_id()
    private_key, shared_key = crypto.new_key(), crypto.new_key()
    case = Case(
        id=case_id, counsellor_id=counsellor.id, pseudonym=_new_pseudonym(db), status="open",
        profile_sealed=seal_json(private_key, asdict(profile), "cases", case_id, "profile",
                                 case_id),
    )
    db.add(case)
    db.flush()
    for purpose, key in ((PRIVATE, private_key), (SHARED, shared_key)):
        db.add(CaseKey(case_id=case_id, purpose=purpose, recipient_id=counsellor.id,
                       wrapped=crypto.wrap_key_to(counsellor.public_key, key, purpose, case_id,
                                                  counsellor.id)))
    entry_id = new_id()
    db.add(DirectoryEntry(id=entry_id, counsellor_id=counsellor.id, case_id=case_id,
                          name_sealed=_seal_directory_name(keyring, entry_id, case_id, profile)))
    return case


def profile_of(keyring: Keyring, case: Case) -> ClientProfile:
    """The decrypted client profile."""
    data = unseal_json(keyring.case_key(case.id, PRIVATE), case.profile_sealed, "cases",
                       case.id, "profile", case.id)
    known = {f.name for f in fields(ClientProfile)}
    return ClientProfile(**{k: v for k, v in data.items() if k in known})


def update_profile(db: Session, keyring: Keyring, case: Case, profile: ClientProfile) -> None:
    """Replace the client profile and the dashboard's copy of the name."""
    case.profile_sealed = seal_json(keyring.case_key(case.id, PRIVATE), asdict(profile), "cases",
                                    case.id, "profile", case.id, case.profile_sealed)
    entry = db.scalar(select(DirectoryEntry).where(DirectoryEntry.case_id == case.id))
    if entry is not None:
        entry.name_sealed = _seal_directory_name(keyring, entry.id, case.id, profile,
                                                 entry.name_sealed)


@functools.cache
def _dashboard_query(show_closed: bool) -> Select:
    """The dashboard's page query, built once: constructing it cost more than running it.
    `me`, `today`, `size` and `skip` are bound per request."""
    me = bindparam("me")
    status_filter = Case.status.in_(("open", "closed")) if show_closed else Case.status == "open"
    # A case's first scheduled session is kept on its row; only where that date has passed
    # (a session nobody marked as held) does a correlated subquery look for the next one,
    # through an index on that case's rows.
    later = (select(func.min(CounsellingSession.held_on))
             .where(CounsellingSession.case_id == Case.id,
                    CounsellingSession.held_on >= bindparam("today"),
                    CounsellingSession.attendance == SCHEDULED)
             .scalar_subquery())
    never = bindparam("never", NEVER, type_=Date)
    next_on = sql_case((Case.first_scheduled_on.is_(None), never),
                       (Case.first_scheduled_on >= bindparam("today"), Case.first_scheduled_on),
                       else_=func.coalesce(later, never))
    # One sort key, named, so that ORDER BY refers to the column and each case's key is
    # worked out once (written out in ORDER BY it ran three times). No session sorts last.
    next_key = next_on.label("next_on")
    # The page is chosen first on the sort keys alone; only its rows carry their sealed
    # names and get their counts (sorting 300 rows with their ciphertext cost 3x more).
    chosen = (select(Case.id.label("case_id"), next_key)
              .where(Case.counsellor_id == me, status_filter)
              .order_by(Case.status.desc(), next_key, Case.created_at.desc(), Case.id)
              .limit(bindparam("size")).offset(bindparam("skip"))
              .subquery())
    open_count = (select(func.count()).select_from(OpenQuestion)
                  .where(OpenQuestion.case_id == Case.id, OpenQuestion.state == OPEN)
                  .scalar_subquery())
    unread_count = (select(func.count()).select_from(ReflectionVersion)
                    .where(ReflectionVersion.case_id == Case.id,
                           ReflectionVersion.scope == SHARED_SCOPE,
                           ReflectionVersion.read_at.is_(None))
                    .scalar_subquery())
    return (select(Case.id, Case.pseudonym, Case.status, DirectoryEntry.id,
                   DirectoryEntry.name_sealed, chosen.c.next_on, open_count, unread_count)
            .select_from(chosen)
            .join(Case, Case.id == chosen.c.case_id)
            .join(DirectoryEntry, DirectoryEntry.case_id == Case.id)
            .order_by(Case.status.desc(), chosen.c.next_on, Case.created_at.desc(), Case.id))


def dashboard(db: Session, keyring: Keyring, page: int = 1, show_closed: bool = False
              ) -> DashboardPage:
    """One page of the counsellor's cases: one query whatever the caseload."""
    page = max(page, 1)
    rows = read_columns(db, _dashboard_query(show_closed), {
        "me": keyring.user.id, "today": date.today(), "size": PAGE_SIZE + 1,
        "skip": (page - 1) * PAGE_SIZE}).all()
    # Every name is under the one directory key: one cipher opens the page's rows.
    names = (crypto.FieldCipher(keyring.directory_key(), "directory_entries", "name", None)
             if rows else None)
    out = [
        DashboardRow(
            case_id=case_id, pseudonym=pseudonym, status=status,
            display_name=json.loads(names.open_utf8(name_sealed, entry_id, case_id))["display"],
            next_session=None if next_on == NEVER else next_on,
            open_questions=n or 0,
            unread=unread or 0,
        )
        for case_id, pseudonym, status, entry_id, name_sealed, next_on, n, unread
        in rows[:PAGE_SIZE]
    ]
    return DashboardPage(rows=out, page=page, has_more=len(rows) > PAGE_SIZE)


def close_case(case: Case) -> None:
    """Close a case: it leaves the dashboard; everything stays readable."""
    case.status = "closed"
    case.closed_at = utcnow()


def reopen_case(case: Case) -> None:
    """Bring a closed case back to the dashboard."""
    case.status = "open"
    case.closed_at = None


def erase_case(db: Session, case: Case) -> None:
    """Crypto-shred a case: its ciphertext, every key wrap and its directory entry (DESIGN 3.7).

    Signed-in sessions' sealed copies of the case's keys (keyring.py) go with the wraps.
    The client's account exists only for this case, so it goes too: they can no longer sign in.
    """
    case_id, client_id = case.id, case.client_id
    for model in (QuestionEvent, OpenQuestion, NoteRevision, Note, ReflectionVersion,
                  Reflection, ClientInvitation, Person, CounsellingSession, CaseKey,
                  SessionKey, DirectoryEntry):
        db.execute(delete(model).where(model.case_id == case_id))
    db.execute(delete(Case).where(Case.id == case_id))
    if client_id is not None:
        db.execute(delete(WebSession).where(WebSession.user_id == client_id))
        db.execute(delete(User).where(User.id == client_id))
