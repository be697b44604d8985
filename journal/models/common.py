"""Column helpers shared by the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


def new_id() -> str:
    """An application-generated row id, known before INSERT so it can be bound into ciphertext."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no zone, so we store UTC everywhere and say so here."""
    return datetime.now(UTC).replace(tzinfo=None)


def id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)
