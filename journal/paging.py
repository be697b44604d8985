"""Lists show at most fifty rows a page; `?page=N` picks the page."""

from __future__ import annotations

from flask import request


def page_arg() -> int:
    """?page=N, tolerant of junk (isdecimal, not isdigit: int("²") raises)."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < len(raw) < 6 else 1
