"""Passphrase policy: 12 to 128 characters, no composition rules, not a known common password."""

from __future__ import annotations

from functools import cache
from importlib import resources

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128


@cache
def _common() -> frozenset[str]:
    text = resources.files("journal.auth").joinpath("common_passphrases.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def problem_with(passphrase: str, login_name: str = "") -> str | None:
    """Why this passphrase cannot be used, in words for the person choosing it; None if fine."""
    if len(passphrase) < MIN_LENGTH:
        return str(_l("Please use at least %(n)d characters — a short sentence works well.",
                      n=MIN_LENGTH))
    if len(passphrase) > MAX_LENGTH:
        return str(_l("Please keep it to %(n)d characters or fewer.", n=MAX_LENGTH))
    folded = passphrase.casefold()
    squeezed = "".join(folded.split())
    if folded in _common() or squeezed in _common() or len(set(squeezed)) <= 2:
        return str(_l("That one appears on lists of common passwords. "
                      "A few unrelated words of your own are stronger."))
    if login_name and squeezed == "".join(login_name.casefold().split()):
        return str(_l("Please choose something different from your login name."))
    return None
