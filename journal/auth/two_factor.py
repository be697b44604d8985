"""Two-step sign-in: a TOTP secret only the user's own private key opens, and backup codes.

The secret is HPKE-wrapped to the user's public key (like their directory or drafts key), so
a stolen database holds no usable secret: opening it needs the private key, which only the
passphrase, the recovery code or a live session cookie unlocks. Backup codes are stored only
as HMAC(pepper, user id + code) and deleted when used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import segno
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from .. import crypto
from ..models import BackupCode, SignedInUser, User, new_id

TOTP = "totp"  # HPKE purpose labels: an active secret and one still being set up
TOTP_PENDING = "totp-pending"
BACKUP_CODE_COUNT = 10
TOTP_CODE = "totp"
BACKUP_CODE = "backup"


class WrongCode(Exception):
    """A code that is not right now; reused=True when it was right but already used."""

    def __init__(self, reused: bool = False) -> None:
        super().__init__()
        self.reused = reused


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret for typing in, and the QR code's link."""

    secret_text: str = field(repr=False)  # the TOTP secret: never in a log
    uri: str = field(repr=False)  # holds it too


def is_on(user: User | SignedInUser) -> bool:
    """Whether this user signs in with a second step."""
    return user.totp_sealed is not None


def is_required(user: User | SignedInUser, required_for_counsellors: bool) -> bool:
    """Counsellors must use it when the practice says so; clients may choose."""
    return required_for_counsellors and user.is_counsellor


def _seal(user: User, secret: bytes, purpose: str) -> bytes:
    return crypto.wrap_key_to(user.public_key, secret, purpose, "-", user.id)


def _open(user: User, private_key: bytes, sealed: bytes, purpose: str) -> bytes:
    return crypto.unwrap_key_with(private_key, sealed, purpose, "-", user.id)


def begin_setup(user: User) -> None:
    """A new secret waiting to be confirmed with a code (an earlier unconfirmed one is replaced)."""
    user.totp_pending_sealed = _seal(user, crypto.new_totp_secret(), TOTP_PENDING)


def pending_enrolment(user: User, private_key: bytes, account: str, issuer: str
                      ) -> Enrolment | None:
    """The secret being set up, ready to show, or None if set-up has not started."""
    if user.totp_pending_sealed is None:
        return None
    secret = _open(user, private_key, user.totp_pending_sealed, TOTP_PENDING)
    return Enrolment(secret_text=crypto.totp_secret_text(secret),
                     uri=crypto.totp_uri(secret, account, issuer))


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code as inline SVG made on the server: presentation attributes, no style."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, title=title, svgclass="qr-code", lineclass=None, omitsize=True,
        dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own SVG


def confirm_setup(db: Session, user: User, private_key: bytes, code: str, pepper: bytes
                  ) -> list[str]:
    """Turn two-step sign-in on once a code proves the app holds the secret; returns the
    backup codes, to be shown once."""
    if user.totp_pending_sealed is None:
        raise WrongCode()
    secret = _open(user, private_key, user.totp_pending_sealed, TOTP_PENDING)
    step = crypto.totp_step(secret, code)
    if step is None:
        raise WrongCode()
    user.totp_sealed = _seal(user, secret, TOTP)
    user.totp_pending_sealed = None
    user.totp_last_step = step  # the code just typed cannot sign anyone in
    return replace_backup_codes(db, user, pepper)


def enable_for_demo(db: Session, user: User, pepper: bytes) -> tuple[str, list[str]]:
    """seed-demo only: turn two-step sign-in on without an app's code; returns the key to add
    to an authenticator and the backup codes, both printed once in the operator's terminal."""
    secret = crypto.new_totp_secret()
    user.totp_sealed = _seal(user, secret, TOTP)
    user.totp_pending_sealed = None
    user.totp_last_step = None
    return crypto.totp_secret_text(secret), replace_backup_codes(db, user, pepper)


def replace_backup_codes(db: Session, user: User, pepper: bytes) -> list[str]:
    """A new set of single-use backup codes; the earlier ones stop working."""
    db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
    codes = crypto.new_backup_codes(BACKUP_CODE_COUNT)
    for code in codes:
        db.add(BackupCode(id=new_id(), user_id=user.id,
                          lookup=crypto.backup_code_lookup(pepper, user.id, code)))
    return codes


def backup_codes_left(db: Session, user: User) -> int:
    """How many unused backup codes this user has."""
    return db.scalar(select(func.count()).select_from(BackupCode)
                     .where(BackupCode.user_id == user.id)) or 0


def verify(db: Session, user: User, private_key: bytes, code: str, pepper: bytes) -> str:
    """Check a TOTP code (each works once) or a backup code (used up); returns which it was."""
    if user.totp_sealed is None:
        raise WrongCode()
    if crypto.looks_like_totp(code):
        secret = _open(user, private_key, user.totp_sealed, TOTP)
        step = crypto.totp_step(secret, code)
        if step is None:
            raise WrongCode()
        # A conditional UPDATE: of two requests with the same code, only one can win.
        won = db.execute(
            update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                       User.totp_last_step < step))
            .values(totp_last_step=step)).rowcount
        if won != 1:
            raise WrongCode(reused=True)
        return TOTP_CODE
    lookup = crypto.backup_code_lookup(pepper, user.id, code)
    used = db.execute(delete(BackupCode).where(BackupCode.user_id == user.id,
                                               BackupCode.lookup == lookup)).rowcount
    if used != 1:
        raise WrongCode()
    return BACKUP_CODE


def reset(db: Session, user: User) -> bool:
    """Turn two-step sign-in off and forget its secret and backup codes; True if it was on."""
    was_on = is_on(user)
    user.totp_sealed = None
    user.totp_pending_sealed = None
    user.totp_last_step = None
    db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
    return was_on
