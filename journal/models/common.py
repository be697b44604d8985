"""Column helpers shared by the models."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


def new_id() -> str:
    """An application-generated row id, known before INSERT so it can be bound into ciphertext."""
    return str(uuid.uuid4())


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_id(value: str) -> bool:
    """Whether a string from a URL or form can be one of our ids. Anything else is never looked
    up: PostgreSQL rejects NUL bytes with an error, which would be a 500 instead of a 404."""
    return _ID.fullmatch(value) is not None


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no zone, so we store UTC everywhere and say so here."""
    return datetime.now(UTC).replace(tzinfo=None)


def id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)
