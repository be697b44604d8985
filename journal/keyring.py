"""The keys a signed-in user can open during one request.

An HPKE open costs ~100 µs here, so each page opens at most a couple of case keys and
one directory key (DESIGN 3.6) and keeps them only in this object, for this request. The
private key is parsed once per Keyring (parsing costs about half an open); a search, which
opens every case, first reads all of the user's wraps in one statement (load_case_wraps).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
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
        self._private: crypto.PrivateKey | None = None
        self._opened: dict[tuple[str, str], bytes] = {}
        # Wraps read ahead by load_case_wraps: (case id, purpose) -> HPKE wrap (ciphertext).
        self._wraps: dict[tuple[str, str], bytes] = {}

    def _unwrap(self, wrapped: bytes, purpose: str, case_id: str) -> bytes:
        if self._private is None:
            self._private = crypto.PrivateKey(self.private_key)
        return self._private.unwrap_key(wrapped, purpose, case_id, self.user.id)

    def load_case_wraps(self, purposes: Collection[str]) -> None:
        """Read every wrap of these purposes addressed to this user in one statement, so that
        case_key then needs no query per case. Nothing is unwrapped until it is asked for."""
        table = CaseKey.__table__
        rows = self._db.execute(
            select(table.c.case_id, table.c.purpose, table.c.wrapped)
            .where(table.c.recipient_id == self.user.id, table.c.purpose.in_(list(purposes))))
        for case_id, purpose, wrapped in rows:
            self._wraps[(case_id, purpose)] = wrapped

    def case_key(self, case_id: str, purpose: str) -> bytes:
        """The case's private or shared key, unwrapped with this user's private key."""
        memo = (case_id, purpose)
        key = self._opened.get(memo)
        if key is None:
            wrapped = self._wraps.pop(memo, None)
            if wrapped is None:
                wrap = self._db.get(CaseKey, (case_id, purpose, self.user.id))
                if wrap is None:
                    raise NoKey(purpose)
                wrapped = wrap.wrapped
            key = self._opened[memo] = self._unwrap(wrapped, purpose, case_id)
        return key

    def _own_key(self, purpose: str, wrapped: bytes | None) -> bytes:
        memo = (purpose, purpose)
        if memo not in self._opened:
            if wrapped is None:
                raise NoKey(purpose)
            self._opened[memo] = self._unwrap(wrapped, purpose, "-")
        return self._opened[memo]

    def directory_key(self) -> bytes:
        """The counsellor's directory key, which seals the client names their dashboard lists."""
        return self._own_key(DIRECTORY, self.user.directory_key_wrapped)

    def draft_key(self) -> bytes:
        """The client's own key for unshared drafts (DESIGN 3.2)."""
        return self._own_key(DRAFTS, self.user.draft_key_wrapped)
