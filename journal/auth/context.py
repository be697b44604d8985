"""Per-request helpers shared by routes: the KDF settings and the unlocked current user."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import crypto, instance_secrets
from ..db import get_db
from ..models import User
from .service import KdfSettings, Unlocked
from .web_sessions import SignedIn


def kdf_settings() -> KdfSettings:
    """Argon2id parameters from config and the pepper from instance/."""
    cfg = current_app.config
    return KdfSettings(
        params=crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"]),
        allow_weak=bool(cfg["ALLOW_WEAK_KDF"]),
        pepper=instance_secrets.pepper(),
    )


def account_of(db: Session, signed_in: SignedIn) -> User:
    """The User behind a session, to change it: every other page reads the plain values the
    session row came with (SignedInUser)."""
    user = db.get(User, signed_in.user.id)
    if user is None:  # deleted meanwhile (its sessions go with it)
        abort(404)
    return user


def unlocked() -> Unlocked:
    """The signed-in user with their private key (login is required before any route runs),
    for the account pages, which change the user."""
    signed_in = g.get("signed_in")
    if signed_in is None:
        abort(404)
    return Unlocked(user=account_of(get_db(), signed_in), private_key=signed_in.private_key)


def refuse_passphrase(field: Any) -> None:
    """A signed-in page was given a wrong current passphrase: say so beside the field, and
    let the throttle count it (throttle.py). Only this counts: a new passphrase that the
    policy refused, or an empty form, is a person choosing, not someone guessing."""
    field.errors.append(_("That is not your current passphrase."))
    g.wrong_passphrase = True


def passphrase_was_wrong(_response: Any) -> bool:
    """For the throttle: did this request refuse the current passphrase?"""
    return bool(g.get("wrong_passphrase"))
