"""Time-based one-time codes (RFC 6238, via pyotp) and single-use backup codes.

The TOTP secret itself is stored only HPKE-wrapped to its owner (envelope.wrap_key_to);
backup codes only as HMAC(pepper, user id + normalised code), like login names.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import UTC, datetime

import pyotp

from .kdf import lookup_value

TOTP_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
TOTP_DIGITS = 6
BACKUP_CODE_CHARS = 10  # Base32: 50 bits each, and a second factor only
_GROUP = 5
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _now() -> datetime:
    """The clock codes are checked against (tests replace it)."""
    return datetime.now(UTC)


def new_totp_secret() -> bytes:
    """A fresh random TOTP secret (raw bytes; show it with totp_secret_text)."""
    return secrets.token_bytes(TOTP_SECRET_BYTES)


def totp_secret_text(secret: bytes) -> str:
    """The Base32 form authenticator apps expect, without padding."""
    return base64.b32encode(secret).decode().rstrip("=")


def totp_uri(secret: bytes, account: str, issuer: str) -> str:
    """The otpauth:// link a QR code carries (SHA-1, 6 digits, 30 s: what every app reads)."""
    return pyotp.TOTP(totp_secret_text(secret)).provisioning_uri(name=account, issuer_name=issuer)


def totp_code_at(secret: bytes, step: int) -> str:
    """The code for one 30-second time step (for tests and the matching below)."""
    return pyotp.TOTP(totp_secret_text(secret)).generate_otp(step)


def totp_step(secret: bytes, code: str, now: datetime | None = None, window: int = 1
              ) -> int | None:
    """The time step (within ±window of now) whose code this is, or None.

    Callers refuse a step at or before the last one used, so a code works once.
    """
    typed = "".join(code.split())
    # ASCII only: "²" is a digit to isdigit(), and hmac.compare_digest refuses non-ASCII str.
    if len(typed) != TOTP_DIGITS or not (typed.isascii() and typed.isdigit()):
        return None
    totp = pyotp.TOTP(totp_secret_text(secret))
    current = totp.timecode(now or _now())
    found = None
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            found = step
    return found


def looks_like_totp(code: str) -> bool:
    """Six digits (spaces allowed): an authenticator code rather than a backup code."""
    typed = "".join(code.split())
    return len(typed) == TOTP_DIGITS and typed.isascii() and typed.isdigit()


def new_backup_codes(count: int = 10) -> list[str]:
    """Random single-use backup codes, grouped for reading and typing (e.g. K7QXM-3PZRA)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_BASE32) for _ in range(BACKUP_CODE_CHARS))
        codes.append(f"{raw[:_GROUP]}-{raw[_GROUP:]}")
    return codes


def normalise_backup_code(code: str) -> str:
    """Accept a code typed with spaces, without the dash, in lower case or with look-alikes."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans({"0": "O", "1": "I", "8": "B"}))


def backup_code_lookup(pepper: bytes, user_id: str, code: str) -> bytes:
    """HMAC(pepper, user id + normalised code): the only thing stored about a backup code."""
    return lookup_value(pepper, "backup-code", f"{user_id}|{normalise_backup_code(code)}")
