"""Server-side sign-in sessions: the session row is the identity (DESIGN 3.5).

The cookie carries a random token and a random per-session key. The database keeps only
SHA-256(token) and the user's private key sealed under the per-session key, so neither a
database copy nor SECRET_KEY lets anyone act as a user.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from .. import crypto
from ..keyring import DIRECTORY, DRAFTS
from ..models import User, WebSession, new_id, utcnow

_TOKEN_BYTES = 32
_KEY_BYTES = 32
_PURPOSE = "session-private-key"


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta
    touch_every: timedelta
    # A session waiting for its second factor (TOTP) lasts only this long.
    second_factor: timedelta = timedelta(minutes=10)


@dataclass
class SignedIn:
    """A session row that decrypted: the user, their private key, and the session's key."""

    row: WebSession
    user: User
    private_key: bytes
    session_key: bytes
    # This session's sealed copies of the user's own keys (purpose -> sealed; keyring.py).
    own_key_copies: dict[str, bytes] = field(default_factory=dict)


def _encode(token: bytes, key: bytes) -> str:
    return base64.urlsafe_b64encode(token + key).decode().rstrip("=")


def _decode(cookie: str) -> tuple[bytes, bytes] | None:
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _TOKEN_BYTES + _KEY_BYTES:
        return None
    return raw[:_TOKEN_BYTES], raw[_TOKEN_BYTES:]


def start(db: Session, user: User, private_key: bytes, second_factor_pending: bool = False
          ) -> str:
    """Create a session row for a user who just proved their passphrase; returns the cookie.

    With second_factor_pending the row only lets them give their TOTP or backup code.
    """
    token, key = crypto.random_token(_TOKEN_BYTES), crypto.new_key()
    row_id = new_id()
    db.add(
        WebSession(
            id=row_id,
            token_hash=crypto.token_hash(token),
            user_id=user.id,
            private_key_sealed=crypto.wrap_secret(key, private_key, _PURPOSE, row_id, user.id),
            second_factor_pending=second_factor_pending,
        )
    )
    return _encode(token, key)


@functools.cache
def _resume_query() -> Select:
    # Every signed-in request runs this: the user comes in the same statement, and the
    # statement is built once, bound per request (see "Statements" in db.py).
    return (select(WebSession, User).join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == bindparam("token_hash")))


def resume(db: Session, cookie: str | None, timeouts: Timeouts, now: datetime | None = None
           ) -> SignedIn | None:
    """The signed-in session this cookie names, or None. Expired rows are deleted on sight."""
    parts = _decode(cookie) if cookie else None
    if parts is None:
        return None
    token, key = parts
    found = db.execute(_resume_query(), {"token_hash": crypto.token_hash(token)}).first()
    if found is None:
        return None
    row, user = found
    now = now or utcnow()
    if (now - row.last_seen > timeouts.idle or now - row.created_at > timeouts.absolute
            or (row.second_factor_pending and now - row.created_at > timeouts.second_factor)):
        end(db, row.id)
        db.commit()
        return None
    try:
        private_key = crypto.unwrap_secret(key, row.private_key_sealed, _PURPOSE, row.id,
                                           row.user_id)
    except crypto.DecryptionFailed:
        return None
    if now - row.last_seen >= timeouts.touch_every:
        row.last_seen = now
        db.commit()
    copies = {DIRECTORY: row.directory_key_sealed, DRAFTS: row.drafts_key_sealed}
    return SignedIn(row=row, user=user, private_key=private_key, session_key=key,
                    own_key_copies={k: v for k, v in copies.items() if v is not None})


# The session row's column for each of the user's own keys (keyring.py).
OWN_KEY_COLUMNS = {DIRECTORY: "directory_key_sealed", DRAFTS: "drafts_key_sealed"}


def end(db: Session, session_id: str) -> None:
    """Delete one session row."""
    db.execute(delete(WebSession).where(WebSession.id == session_id))


def end_all_for(db: Session, user_id: str, except_session_id: str | None = None) -> int:
    """Sign a user out everywhere (optionally keeping one session); returns how many ended."""
    ids = db.scalars(select(WebSession.id).where(WebSession.user_id == user_id)).all()
    ended = 0
    for session_id in ids:
        if session_id != except_session_id:
            end(db, session_id)
            ended += 1
    return ended


def purge_expired(db: Session, timeouts: Timeouts, now: datetime | None = None) -> int:
    """Delete every session past its idle or absolute limit (run from the CLI or a timer)."""
    now = now or utcnow()
    stale = db.scalars(
        select(WebSession.id).where(
            (WebSession.last_seen < now - timeouts.idle)
            | (WebSession.created_at < now - timeouts.absolute)
            | (WebSession.second_factor_pending
               & (WebSession.created_at < now - timeouts.second_factor))
        )
    ).all()
    for session_id in stale:
        end(db, session_id)
    return len(stale)

