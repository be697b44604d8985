"""The keys a signed-in user can open during one request.

An HPKE open costs ~35 µs here, so each page opens at most a couple of case keys and
one directory key (DESIGN 3.6) and keeps them only in this object, for this request.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import crypto
from .models import CaseKey, User

DIRECTORY = "directory"  # a counsellor's key for the names their dashboard lists
DRAFTS = "drafts"  # a client's key for reflections nobody else may read yet


class NoKey(LookupError):
    """The user holds no wrap of this key: the case is not theirs (routes answer 404)."""


class Keyring:
    """The signed-in user's private key and whatever it unwrapped so far in this request."""

    def __init__(self, db: Session, user: User, private_key: bytes) -> None:
        self._db = db
        self.user = user
        self.private_key = private_key
        self._opened: dict[tuple[str, str], bytes] = {}

    def case_key(self, case_id: str, purpose: str) -> bytes:
        """The case's private or shared key, unwrapped with this user's private key."""
        memo = (case_id, purpose)
        if memo not in self._opened:
            wrap = self._db.get(CaseKey, (case_id, purpose, self.user.id))
            if wrap is None:
                raise NoKey(purpose)
            self._opened[memo] = crypto.unwrap_key_with(
                self.private_key, wrap.wrapped, purpose, case_id, self.user.id
            )
        return self._opened[memo]

    def _own_key(self, purpose: str, wrapped: bytes | None) -> bytes:
        memo = (purpose, purpose)
        if memo not in self._opened:
            if wrapped is None:
                raise NoKey(purpose)
            self._opened[memo] = crypto.unwrap_key_with(
                self.private_key, wrapped, purpose, "-", self.user.id
            )
        return self._opened[memo]

    def directory_key(self) -> bytes:
        """The counsellor's directory key, which seals the client names their dashboard lists."""
        return self._own_key(DIRECTORY, self.user.directory_key_wrapped)

    def draft_key(self) -> bytes:
        """The client's own key for unshared drafts (DESIGN 3.2)."""
        return self._own_key(DRAFTS, self.user.draft_key_wrapped)
