"""A tamper-evident audit log (actor, action, object, time — never content).

Each entry's MAC is HMAC(audit_key, previous MAC ‖ the entry), the key living in instance/,
so editing, deleting or reordering rows breaks the chain. Appends first UPDATE the single
`audit_head` row (the number of entries), which takes the row lock (PostgreSQL) or the write
lock (SQLite) before the previous entry's MAC is read, so concurrent writers queue instead of
forking the chain. After each commit the new (seq, MAC) is appended to
instance/audit_checkpoints, so cutting entries off the end is detectable too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app, has_app_context
from sqlalchemy import ColumnElement, Connection, ScalarSelect, event, insert, select, update
from sqlalchemy.orm import Session

from . import crypto, instance_secrets
from .db import insert_unless_present
from .models import AuditEvent, AuditHead, utcnow

CHECKPOINT_FILE = "audit_checkpoints"
_GENESIS = bytes(32)
_PENDING = "journal_audit_checkpoints"


def _entry_bytes(seq: int, at: datetime, actor_id: str | None, action: str, object_type: str,
                 object_id: str | None, case_id: str | None) -> bytes:
    parts = (str(seq), at.isoformat(), actor_id or "", action, object_type, object_id or "",
             case_id or "")
    return b"".join(b"%d:%s;" % (len(p.encode()), p.encode()) for p in parts)


# Built once, bound per append (see "Statements" in db.py), on the tables rather than the
# mapped classes: every state-changing request appends, and an ORM-enabled UPDATE costs about
# three times a plain one while an append-only row gains nothing from identity tracking.
_HEAD, _EVENTS = AuditHead.__table__, AuditEvent.__table__


def _last(column: ColumnElement) -> ScalarSelect:
    return select(column).order_by(_EVENTS.c.seq.desc()).limit(1).scalar_subquery()


# Advancing the head also returns the last entry (its number and MAC): an append is this and
# the INSERT, two statements. The head row keeps only the count (see _previous_mac).
_ADVANCE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
                 .returning(_HEAD.c.seq, _last(_EVENTS.c.seq), _last(_EVENTS.c.mac)))
_LAST_ENTRY = select(_EVENTS.c.seq, _EVENTS.c.mac).order_by(_EVENTS.c.seq.desc()).limit(1)
_APPEND = insert(_EVENTS)


def _previous_mac(conn: Connection, seq: int, last_seq: int | None,
                  last_mac: bytes | None) -> bytes:
    """The MAC the new entry `seq` chains to: the entry before it, as the head's UPDATE
    returned it, or read again when that UPDATE saw an older log.

    On PostgreSQL a writer that waited for the head row gets that row as the other writer
    committed it, but the rest of its UPDATE still sees the table as it was when the
    statement began, without the other writer's entry. The last entry then is not seq - 1,
    and a new statement, which sees every committed entry, reads it again.
    """
    if last_seq is None and seq == 1:
        return _GENESIS
    if last_seq != seq - 1:
        last = conn.execute(_LAST_ENTRY).first()
        # Still not seq - 1: entries were deleted. The chain goes on from the last one left,
        # and verify() reports the gap.
        last_mac = last.mac if last is not None else None
    return last_mac if last_mac is not None else _GENESIS


def record(db: Session, action: str, *, actor_id: str | None, object_type: str,
           object_id: str | None = None, case_id: str | None = None,
           key: bytes | None = None) -> int:
    """Append one entry in the caller's transaction; returns its sequence number."""
    key = key or instance_secrets.load(current_app._get_current_object()).audit_key  # type: ignore[attr-defined]
    # The caller's pending changes go first, as they did when this ran through the ORM: rows
    # it changed stay locked before the head row is (otherwise two requests that touch the
    # same row, then audit, could each wait for the other on PostgreSQL). Nothing pending,
    # nothing sent. Then plain statements on the session's own connection and transaction.
    db.flush()
    conn = db.connection()
    # The UPDATE comes first: it locks the head row until this transaction ends.
    row = conn.execute(_ADVANCE_HEAD).first()
    if row is None:
        # The very first entry. Two first entries at once must not both insert the head
        # (one would fail): the loser waits for the winner's row, then advances it.
        conn.execute(insert_unless_present(conn, _HEAD, "id").values(id=1, seq=0))
        row = conn.execute(_ADVANCE_HEAD).one()
    seq = row[0]
    previous = _previous_mac(conn, seq, row[1], row[2])
    at = utcnow()
    mac = crypto.audit_mac(key, previous, _entry_bytes(seq, at, actor_id, action, object_type,
                                                       object_id, case_id))
    conn.execute(_APPEND, {"seq": seq, "at": at, "actor_id": actor_id, "action": action,
                           "object_type": object_type, "object_id": object_id,
                           "case_id": case_id, "mac": mac})
    db.info.setdefault(_PENDING, []).append((seq, mac))
    return seq


def record_user(db: Session, action: str, user_id: str | None, *, by_user: bool = True) -> int:
    """An event about one account (sign-in, passphrase, second step …), by that account unless
    by_user is False (a failed attempt: nobody proved who they were)."""
    return record(db, action, actor_id=user_id if by_user else None, object_type="user",
                  object_id=user_id)


def _write_checkpoints(db: Session) -> None:
    pending = db.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return
    path = os.path.join(current_app.instance_path, CHECKPOINT_FILE)
    lines = "".join(f"{seq} {mac.hex()}\n" for seq, mac in pending)
    # O_APPEND: lines from several workers interleave whole, never torn.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, lines.encode())
    finally:
        os.close(fd)


def _forget_checkpoints(db: Session) -> None:
    db.info.pop(_PENDING, None)


@dataclass
class Verdict:
    """What verify() found: ok, how many entries, and every problem in plain words."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _checkpoints(instance_path: str) -> Iterator[tuple[int, bytes]]:
    path = os.path.join(instance_path, CHECKPOINT_FILE)
    if not os.path.exists(path):
        return
    with open(path) as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                try:
                    yield int(parts[0]), bytes.fromhex(parts[1])
                except ValueError:
                    continue


def verify(db: Session, key: bytes, instance_path: str) -> Verdict:
    """Recompute the chain; compare with the head row and the checkpoints in instance/."""
    verdict = Verdict()
    previous, expected_seq = _GENESIS, 1
    macs: dict[int, bytes] = {}
    for entry in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        if entry.seq != expected_seq:
            verdict.problems.append(
                f"entry {expected_seq} is missing (next present is {entry.seq})")
            expected_seq = entry.seq
        mac = crypto.audit_mac(key, previous, _entry_bytes(
            entry.seq, entry.at, entry.actor_id, entry.action, entry.object_type,
            entry.object_id, entry.case_id))
        if not crypto.digests_equal(mac, entry.mac):
            verdict.problems.append(f"entry {entry.seq} was altered, moved or re-chained")
        macs[entry.seq] = entry.mac
        previous = entry.mac
        expected_seq += 1
        verdict.entries += 1
    last_seq = expected_seq - 1
    head = db.get(AuditHead, 1)
    if head is not None and head.seq != last_seq:
        verdict.problems.append(
            f"the head says {head.seq} entries but the log ends at {last_seq}")
    for seq, mac in _checkpoints(instance_path):
        if seq > last_seq:
            verdict.problems.append(
                f"a checkpoint recorded entry {seq}, but the log ends at {last_seq}: "
                "entries were cut off the end")
            break
        if seq in macs and not crypto.digests_equal(macs[seq], mac):
            verdict.problems.append(f"entry {seq} differs from its checkpoint")
            break
    return verdict


def for_case(db: Session, case_id: str, actions: tuple[str, ...] | None = None,
             limit: int = 200) -> list[AuditEvent]:
    """A case's entries, newest first (optionally only some actions)."""
    query = select(AuditEvent).where(AuditEvent.case_id == case_id)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    return list(db.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))


def init_app(app: Flask) -> None:
    """Write checkpoints only for transactions that really committed."""
    from sqlalchemy.orm import Session as SessionClass

    if not event.contains(SessionClass, "after_commit", _write_checkpoints):
        event.listen(SessionClass, "after_commit", _write_checkpoints)
        event.listen(SessionClass, "after_rollback", _forget_checkpoints)
    del app
