"""Throttle counters, shared by every worker and host through the database."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class ThrottleCounter(Base):
    """One fixed-window counter. The key is HMAC(pepper, address or login name), never either."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)  # unix time
