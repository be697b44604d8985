"""Server-side sign-in sessions: the session row is the identity (DESIGN 3.5).

The cookie carries a random token and a random per-session key. The database keeps only
SHA-256(token) and the user's private key sealed under the per-session key, so neither a
database copy nor SECRET_KEY lets anyone act as a user.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from .. import crypto
from ..keyring import DIRECTORY, DRAFTS
from ..models import SignedInUser, User, WebSession, new_id, utcnow

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

    session_id: str
    user: SignedInUser
    private_key: bytes = field(repr=False)  # never in a log or an error report
    session_key: bytes = field(repr=False)
    # Passphrase proven, second step (TOTP) not yet: the row reaches one page only.
    second_factor_pending: bool = False
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


# Every signed-in request runs this statement: the user comes with the session row, both as
# plain columns (no mapped objects), and it is built once, bound per request (see
# "Statements" in db.py).
_USER_FIELDS = tuple(f.name for f in fields(SignedInUser))
_RESUME = (select(WebSession.id, WebSession.user_id, WebSession.private_key_sealed,
                  WebSession.second_factor_pending, WebSession.created_at, WebSession.last_seen,
                  WebSession.directory_key_sealed, WebSession.drafts_key_sealed,
                  *(getattr(User, name) for name in _USER_FIELDS))
           .join(User, User.id == WebSession.user_id)
           .where(WebSession.token_hash == bindparam("token_hash")))
_TOUCH = (update(WebSession).where(WebSession.id == bindparam("session_id"))
          .values(last_seen=bindparam("now")))


def resume(db: Session, cookie: str | None, timeouts: Timeouts, now: datetime | None = None
           ) -> SignedIn | None:
    """The signed-in session this cookie names, or None. Expired rows are deleted on sight."""
    parts = _decode(cookie) if cookie else None
    if parts is None:
        return None
    token, key = parts
    found = db.connection().execute(_RESUME, {"token_hash": crypto.token_hash(token)}).first()
    if found is None:
        return None
    (session_id, user_id, private_key_sealed, second_factor_pending, created_at, last_seen,
     directory_copy, drafts_copy) = found[:8]
    now = now or utcnow()
    if (now - last_seen > timeouts.idle or now - created_at > timeouts.absolute
            or (second_factor_pending and now - created_at > timeouts.second_factor)):
        end(db, session_id)
        db.commit()
        return None
    try:
        private_key = crypto.unwrap_secret(key, private_key_sealed, _PURPOSE, session_id,
                                           user_id)
    except crypto.DecryptionFailed:
        return None
    if now - last_seen >= timeouts.touch_every:
        db.connection().execute(_TOUCH, {"session_id": session_id, "now": now})
        db.commit()
    copies = {DIRECTORY: directory_copy, DRAFTS: drafts_copy}
    return SignedIn(session_id=session_id, user=SignedInUser(*found[8:]),
                    private_key=private_key, session_key=key,
                    second_factor_pending=second_factor_pending,
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

