"""Small helpers binding the counsellor side's fields to their rows (DESIGN 3.3)."""

from __future__ import annotations

import json
from typing import Any

from .. import crypto


def seal(key: bytes, text: str, table: str, row_id: str, column: str, case_id: str,
         old: bytes | None = None) -> bytes:
    """Seal text for one field, one content version after `old` (or version 1)."""
    return crypto.reseal_field(key, old, text, crypto.FieldRef(table, row_id, column, case_id))


def unseal(key: bytes, blob: bytes, table: str, row_id: str, column: str, case_id: str) -> str:
    """Open one field of one row."""
    return crypto.open_field(key, blob, crypto.FieldRef(table, row_id, column, case_id))


def seal_json(key: bytes, value: Any, table: str, row_id: str, column: str, case_id: str,
              old: bytes | None = None) -> bytes:
    """Seal a JSON value for one field."""
    return seal(key, json.dumps(value, ensure_ascii=False), table, row_id, column, case_id, old)


def unseal_json(key: bytes, blob: bytes, table: str, row_id: str, column: str,
                case_id: str) -> Any:
    """Open a JSON field."""
    return json.loads(unseal(key, blob, table, row_id, column, case_id))
