"""The practice, its users, their web sessions, backup codes and counsellor invitations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .common import id_column, utcnow

COUNSELLOR = "counsellor"
CLIENT = "client"


class Practice(Base):
    """The one practice this server runs. Its name is not clinical and is stored in the clear."""

    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SetupCode(Base):
    """SHA-256 of the one-time set-up code printed in the operator's terminal."""

    __tablename__ = "setup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class _SignedInInterface:
    """What Flask-Login and the pages ask of whoever is signed in (User or SignedInUser)."""

    __slots__ = ()
    id: str
    role: str
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id

    @property
    def is_counsellor(self) -> bool:
        return self.role == COUNSELLOR


class User(_SignedInInterface, Base):
    """A counsellor or a client. Holds only KDF parameters, a verifier and wrapped keys."""

    __tablename__ = "users"

    id: Mapped[str] = id_column()
    role: Mapped[str] = mapped_column(String(16))
    # HMAC(pepper, normalised login name): how every user is found at sign-in.
    login_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Counsellors' own login names are not clinical (DESIGN 3); clients' are never stored.
    login_name: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    kdf_iterations: Mapped[int] = mapped_column(Integer)
    kdf_lanes: Mapped[int] = mapped_column(Integer)
    verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    private_key_recovery_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    # Until the user confirms they stored their recovery code, every page leads back to it.
    recovery_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # A counsellor's directory key (HPKE-wrapped to themself) seals the client names the
    # dashboard lists, so the dashboard costs one public-key operation (DESIGN 3.6).
    directory_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A client's own key for unshared drafts, HPKE-wrapped to themself: nobody else,
    # the counsellor included, can open a draft (DESIGN 3.2).
    draft_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Two-step sign-in: the TOTP secret, HPKE-wrapped to the user's own public key, so only
    # their private key (passphrase, recovery code or live session) opens it. NULL = off.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A secret being set up, not yet confirmed with a code (wrapped the same way).
    totp_pending_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The time step of the last code accepted: a code at or before it is refused (no reuse).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class SignedInUser(_SignedInInterface):
    """The columns of a User that every signed-in request needs, read with the session row
    (auth/web_sessions.resume) as plain values: a mapped User cost ~50 µs more a request.
    Pages that change the account load the User itself (auth/context.unlocked)."""

    id: str
    role: str
    login_name: str | None
    is_admin: bool
    recovery_confirmed: bool
    public_key: bytes
    directory_key_wrapped: bytes | None
    draft_key_wrapped: bytes | None
    totp_sealed: bytes | None


class WebSession(Base):
    """A signed-in browser. The row is the identity (DESIGN 3.5)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = id_column()
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's private key, sealed under the random key only the cookie carries.
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The passphrase is proven but the second factor is not yet: such a session reaches only
    # the two-step page and sign-out (security.py).
    second_factor_pending: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The user's own keys once this session has opened them (directory: counsellors; drafts:
    # clients), sealed under the cookie's key like the private key (see SessionKey).
    directory_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    drafts_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class SessionKey(Base):
    """A case key a signed-in session has already unwrapped, sealed under that session's
    cookie key (DESIGN 3.6), so a page opens it with AES-GCM instead of an HPKE open.

    It cannot outlive either thing it copies from: its session row (sign-out, timeouts,
    passphrase change) or the user's wrap of that key (erasure, re-admission). Both are
    foreign keys with ON DELETE CASCADE, so even a copy being written while the wrap is
    deleted is refused or removed by the database, not by whoever remembers to."""

    __tablename__ = "session_keys"
    __table_args__ = (
        ForeignKeyConstraint(["case_id", "purpose", "user_id"],
                             ["case_keys.case_id", "case_keys.purpose", "case_keys.recipient_id"],
                             ondelete="CASCADE"),
        Index("ix_session_keys_case_key", "case_id", "purpose", "user_id"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(12), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    key_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class BackupCode(Base):
    """A single-use backup code for two-step sign-in: only HMAC(pepper, user id + code)."""

    __tablename__ = "backup_codes"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CounsellorInvitation(Base):
    """A link the practice admin sent to a colleague. Only an HKDF lookup value is stored."""

    __tablename__ = "counsellor_invitations"

    id: Mapped[str] = id_column()
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    invited_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
