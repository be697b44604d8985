"""Per-request helpers shared by routes: the KDF settings and the unlocked current user."""

from __future__ import annotations

from flask import abort, current_app, g

from .. import crypto, instance_secrets
from .service import KdfSettings, Unlocked


def kdf_settings() -> KdfSettings:
    """Argon2id parameters from config and the pepper from instance/."""
    cfg = current_app.config
    return KdfSettings(
        params=crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"]),
        allow_weak=bool(cfg["ALLOW_WEAK_KDF"]),
        pepper=instance_secrets.pepper(),
    )


def unlocked() -> Unlocked:
    """The signed-in user with their private key (login is required before any route runs)."""
    signed_in = g.get("signed_in")
    if signed_in is None:
        abort(404)
    return Unlocked(user=signed_in.user, private_key=signed_in.private_key)
