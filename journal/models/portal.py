"""The client's side: invitations to a case, and reflections between sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
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

# Whose key seals a reflection version (DESIGN 3.2).
CLIENT_ONLY = "client"  # an unshared draft: only the client can read it
SHARED_SCOPE = "shared"  # shared with the counsellor under the shared case key


class ClientInvitation(Base):
    """A link that admits a client to one case. The secret itself is never stored."""

    __tablename__ = "client_invitations"

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The shared case key under a key derived from the link's secret; deleted once used.
    shared_key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Re-admits the case's existing client with a new key pair (lost passphrase and code).
    readmit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Reflection(Base):
    """What a client writes between sessions. Its text lives in ReflectionVersion rows."""

    __tablename__ = "reflections"

    id: Mapped[str] = id_column()
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # draft: never shared; shared: the counsellor can read its latest shared version.
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # Last-write detection between two tabs (autosave names the version it started from).
    edit_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class ReflectionVersion(Base):
    """One version of a reflection: a client-only draft, or a shared text (kept when amended)."""

    __tablename__ = "reflection_versions"
    __table_args__ = (
        UniqueConstraint("reflection_id", "number"),
        # The dashboard counts each case's unread shared versions from the index alone.
        Index("ix_reflection_versions_case_scope_read", "case_id", "scope", "read_at"),
    )

    id: Mapped[str] = id_column()
    reflection_id: Mapped[str] = mapped_column(
        ForeignKey("reflections.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(8))  # client | shared
    content_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Read receipt: when the counsellor first opened this shared version.
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
