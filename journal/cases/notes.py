"""Session notes: templates, drafts, signing, amendments with a reason, every version kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Row, ScalarSelect, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from ..db import keep_in_step, now_holds
from ..keyring import Keyring
from ..models import (
    DRAFT,
    PRIVATE,
    SIGNED,
    CounsellingSession,
    Note,
    NoteRevision,
    new_id,
    utcnow,
)
from .errors import Conflict, InvalidChange, Locked
from .sealing import seal, seal_json, unseal, unseal_json

# Each template is an ordered set of labelled sections.
TEMPLATES: dict[str, tuple[tuple[str, object], ...]] = {
    "narrative": (("narrative", _l("Session note")),),
    "soap": (("subjective", _l("Subjective — what the client said")),
             ("objective", _l("Objective — what you observed")),
             ("assessment", _l("Assessment — your understanding")),
             ("plan", _l("Plan — next steps"))),
    "dap": (("data", _l("Data — what happened in session")),
            ("assessment", _l("Assessment — your understanding")),
            ("plan", _l("Plan — next steps"))),
    "birp": (("behaviour", _l("Behaviour — what the client brought and showed")),
             ("intervention", _l("Intervention — what you offered")),
             ("response", _l("Response — how the client responded")),
             ("plan", _l("Plan — next steps"))),
}
TEMPLATE_NAMES = {"narrative": _l("Narrative"), "soap": _l("SOAP"), "dap": _l("DAP"),
                  "birp": _l("BIRP")}
MAX_SECTION_CHARS = 20_000
MAX_REASON_CHARS = 2_000


@dataclass(slots=True)
class NoteRef:
    """A note as plain values, for saving it without loading it as a mapped object (the
    counsellor's most frequent write; permissions.own_note_with_keys). The save functions
    below take either and keep it true to the row they wrote."""

    id: str
    case_id: str
    session_id: str
    template: str
    status: str
    edit_version: int
    signed_at: datetime | None = None  # set when signed here; not read
    updated_at: datetime | None = None  # set when saved here; not read


@dataclass
class Revision:
    number: int
    kind: str
    sections: dict[str, str]
    reason: str
    created_at: object


def section_keys(template: str) -> list[str]:
    """The section names of a template."""
    return [key for key, _label in TEMPLATES[template]]


# Built once, bound per request (see "Statements" in db.py): every note page and save.
_NOTE_OF_SESSION = select(Note).where(Note.session_id == bindparam("session_id"))
_LATEST_REVISION = (select(NoteRevision).where(NoteRevision.note_id == bindparam("note_id"))
                    .order_by(NoteRevision.number.desc()).limit(1))
_REVISION = select(NoteRevision).where(NoteRevision.note_id == bindparam("note_id"),
                                       NoteRevision.number == bindparam("number"))
# Saving a draft runs on the tables through the session's connection: an ORM-enabled UPDATE
# costs about three times a plain one, and the draft's rows need no identity tracking.
_NOTES, _REVISIONS = Note.__table__, NoteRevision.__table__
_BUMP = (update(_NOTES).where(_NOTES.c.id == bindparam("note_id"),
                              _NOTES.c.edit_version == bindparam("expected"))
         .values(edit_version=bindparam("next_version"), updated_at=bindparam("now")))
_CLAIM = _BUMP.returning(_NOTES.c.edit_version)  # a row back means this save won


def _latest(column: ColumnElement) -> ScalarSelect:
    # Bound to the note id rather than correlated: RETURNING is rendered without table names,
    # where a correlated `id` would name the revision's own id.
    return (select(column).where(_REVISIONS.c.note_id == bindparam("note_id"))
            .order_by(_REVISIONS.c.number.desc()).limit(1).scalar_subquery())


# A draft's claim also names the row to re-seal and its sealed content (for the next content
# version): one statement instead of two on every save.
_CLAIM_DRAFT = _BUMP.returning(_latest(_REVISIONS.c.id), _latest(_REVISIONS.c.content_sealed))
_RESEAL = (update(_REVISIONS).where(_REVISIONS.c.id == bindparam("row_id"))
           .values(content_sealed=bindparam("sealed")))
_SIGN_REVISION = (update(_REVISIONS).where(_REVISIONS.c.id == bindparam("row_id"))
                  .values(kind=SIGNED))
_SIGN_NOTE = (update(_NOTES).where(_NOTES.c.id == bindparam("note_id"))
              .values(status=SIGNED, signed_at=bindparam("now")))


def note_for_session(db: Session, session: CounsellingSession) -> Note | None:
    """The session's note, if one was started."""
    return db.scalar(_NOTE_OF_SESSION, {"session_id": session.id})


def _revision_row(db: Session, note: Note, number: int | None = None) -> NoteRevision:
    if number is None:
        row = db.scalar(_LATEST_REVISION, {"note_id": note.id})
    else:
        row = db.scalar(_REVISION, {"note_id": note.id, "number": number})
    if row is None:
        raise InvalidChange("no such revision")
    return row


def _open_revision(keyring: Keyring, row: NoteRevision) -> Revision:
    key = keyring.case_key(row.case_id, PRIVATE)
    sections = unseal_json(key, row.content_sealed, "note_revisions", row.id, "content",
                           row.case_id)
    reason = (unseal(key, row.reason_sealed, "note_revisions", row.id, "reason", row.case_id)
              if row.reason_sealed else "")
    return Revision(row.number, row.kind, sections, reason, row.created_at)


def _clean(template: str, sections: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for key in section_keys(template):
        text = (sections.get(key) or "").replace("\r\n", "\n")
        if len(text) > MAX_SECTION_CHARS:
            raise InvalidChange(key)
        cleaned[key] = text
    return cleaned


def _structure_of(template: str, sections: dict[str, str]) -> dict[str, str]:
    """What "start from my last note" copies: the template, and a narrative's own headings."""
    if template != "narrative":
        return dict.fromkeys(section_keys(template), "")
    headings = [line for line in sections.get("narrative", "").splitlines()
                if line.strip().endswith(":") or line.lstrip().startswith("#")]
    return {"narrative": "\n\n".join(headings)}


def start_note(db: Session, keyring: Keyring, session: CounsellingSession, template: str,
               from_last: Note | None = None) -> Note:
    """Start a draft note, empty or with the structure of the counsellor's last note."""
    if note_for_session(db, session) is not None:
        raise InvalidChange("note exists")
    sections = dict.fromkeys(section_keys(template) if template in TEMPLATES else [], "")
    if from_last is not None:
        template = from_last.template
        sections = _structure_of(template, current_revision(db, keyring, from_last).sections)
    if template not in TEMPLATES:
        raise InvalidChange(template)
    note = Note(id=new_id(), case_id=session.case_id, session_id=session.id, template=template,
                status=DRAFT, edit_version=1)
    db.add(note)
    db.flush()
    _add_revision(db, keyring, note, 1, DRAFT, sections, "")
    return note


def _add_revision(db: Session, keyring: Keyring, note: Note, number: int, kind: str,
                  sections: dict[str, str], reason: str) -> None:
    key = keyring.case_key(note.case_id, PRIVATE)
    row_id = new_id()
    db.add(NoteRevision(
        id=row_id, note_id=note.id, case_id=note.case_id, number=number, kind=kind,
        content_sealed=seal_json(key, sections, "note_revisions", row_id, "content",
                                 note.case_id),
        reason_sealed=(seal(key, reason, "note_revisions", row_id, "reason", note.case_id)
                       if reason else None),
        author_id=keyring.user.id,
    ))


def current_revision(db: Session, keyring: Keyring, note: Note) -> Revision:
    """The note as it stands now."""
    return _open_revision(keyring, _revision_row(db, note))


def revision(db: Session, keyring: Keyring, note: Note, number: int) -> Revision:
    """One kept version of the note."""
    return _open_revision(keyring, _revision_row(db, note, number))


def revisions(db: Session, keyring: Keyring, note: Note) -> list[Revision]:
    """Every kept version, oldest first."""
    rows = db.scalars(select(NoteRevision).where(NoteRevision.note_id == note.id)
                      .order_by(NoteRevision.number)).all()
    return [_open_revision(keyring, row) for row in rows]


def _now_holds(obj: Note | NoteRef, **values: object) -> None:
    """Keep an object true to the row just written by a plain statement (a mapped one without
    marking it changed, which would write it again)."""
    if not isinstance(obj, NoteRef):
        now_holds(obj, **values)
        return
    for name, value in values.items():
        setattr(obj, name, value)


def _claim(db: Session, note: Note | NoteRef, expected_version: int,
           claim: Update = _CLAIM) -> Row:
    """Bump the note's edit version only if nobody saved since `expected_version` was read;
    returns the row the claim statement returns."""
    now = utcnow()
    db.flush()  # the plain statements below do not flush the note's pending rows themselves
    returned = db.connection().execute(claim, {
        "note_id": note.id, "expected": expected_version, "next_version": expected_version + 1,
        "now": now}).first()
    if returned is None:
        raise Conflict()
    # The row now holds exactly these values: no need to read it back.
    _now_holds(note, edit_version=expected_version + 1, updated_at=now)
    return returned


def save_draft(db: Session, keyring: Keyring, note: Note | NoteRef, sections: dict[str, str],
               expected_version: int) -> str:
    """Save the working draft in place (the draft is one revision until it is signed);
    returns the id of that revision."""
    if note.status != DRAFT:
        raise Locked()
    cleaned = _clean(note.template, sections)
    row_id, old = _claim(db, note, expected_version, _CLAIM_DRAFT)
    sealed = seal_json(keyring.case_key(note.case_id, PRIVATE), cleaned, "note_revisions",
                       row_id, "content", note.case_id, old)
    db.connection().execute(_RESEAL, {"row_id": row_id, "sealed": sealed})
    keep_in_step(db, NoteRevision, row_id, content_sealed=sealed)
    return row_id


def sign(db: Session, keyring: Keyring, note: Note | NoteRef, sections: dict[str, str],
         expected_version: int) -> None:
    """Save and lock the note; from now on only amendments with a reason."""
    row_id = save_draft(db, keyring, note, sections, expected_version)
    now = utcnow()
    conn = db.connection()
    conn.execute(_SIGN_REVISION, {"row_id": row_id})
    conn.execute(_SIGN_NOTE, {"note_id": note.id, "now": now})
    keep_in_step(db, NoteRevision, row_id, kind=SIGNED)
    _now_holds(note, status=SIGNED, signed_at=now)


def amend(db: Session, keyring: Keyring, note: Note | NoteRef, sections: dict[str, str],
          reason: str, expected_version: int) -> None:
    """Add a new version to a signed note, with the reason for the change."""
    if note.status != SIGNED:
        raise InvalidChange("only signed notes are amended")
    if not reason.strip():
        raise InvalidChange("reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidChange("reason is too long")
    cleaned = _clean(note.template, sections)
    _claim(db, note, expected_version)
    last = db.scalar(select(func.max(NoteRevision.number)).where(NoteRevision.note_id == note.id))
    _add_revision(db, keyring, note, (last or 0) + 1, "amendment", cleaned, reason.strip())


def last_note_before(db: Session, session: CounsellingSession) -> Note | None:
    """The most recent note in this case from an earlier session (for "start from my last")."""
    return db.scalar(
        select(Note).join(CounsellingSession, CounsellingSession.id == Note.session_id)
        .where(Note.case_id == session.case_id, CounsellingSession.number < session.number)
        .order_by(CounsellingSession.number.desc()).limit(1)
    )
