"""The keys a signed-in user can open during one request.

An HPKE open costs ~100 µs here, so each page opens at most a couple of case keys and
one directory key (DESIGN 3.6). The private key is parsed once per Keyring (parsing costs
about half an open); a search, which opens every case, first reads all of the user's wraps in
one statement (load_case_wraps).

A signed-in session also keeps the keys it has opened, each sealed under the session's
cookie key (DESIGN 3.6): case keys in session_keys, the user's own keys on the session row.
The statement that reads a case's wraps reads this session's copies too, and a copy opens
with AES-GCM in a few µs. Keys opened the slow way in this request are handed back by
fresh_copies(), and security.py stores them after the request. A copy that does not open
is ignored (the wrap is opened instead).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from . import crypto
from .models import CaseKey, SessionKey, SignedInUser, User

DIRECTORY = "directory"  # a counsellor's key for the names their dashboard lists
DRAFTS = "drafts"  # a client's key for reflections nobody else may read yet
OWN = "-"  # the "case" named in the associated data of a user's own keys (directory, drafts)
_COPY_PURPOSE = "session-key-copy"


@dataclass(frozen=True)
class SessionCopies:
    """The signed-in session whose copies of opened keys this keyring reads and adds to."""

    session_id: str
    session_key: bytes = field(repr=False)  # never in a log or an error report


class NoKey(LookupError):
    """The user holds no wrap of this key: the case is not theirs (routes answer 404)."""


class Keyring:
    """The signed-in user's private key and whatever it unwrapped so far in this request."""

    def __init__(self, db: Session, user: User | SignedInUser, private_key: bytes,
                 session: SessionCopies | None = None) -> None:
        self._db = db
        self.user = user
        self.private_key = private_key
        self.session = session
        self._private: crypto.PrivateKey | None = None
        self._opened: dict[tuple[str, str], bytes] = {}
        # Wraps read ahead: (case id, purpose) -> HPKE wrap (ciphertext).
        self._wraps: dict[tuple[str, str], bytes] = {}
        # This session's sealed copies read ahead: (case id, purpose) -> sealed key.
        self._copies: dict[tuple[str, str], bytes] = {}
        # Keys opened from their wraps in this request: stored as copies afterwards.
        self._fresh: dict[tuple[str, str], bytes] = {}

    @property
    def session_id(self) -> str:
        """The session whose copies to read ("" outside a signed-in request)."""
        return self.session.session_id if self.session else ""

    def _copy_ids(self, case_id: str, purpose: str) -> tuple[str, ...]:
        return (self.session_id, self.user.id, case_id, purpose)

    def _from_copy(self, memo: tuple[str, str]) -> bytes | None:
        sealed = self._copies.pop(memo, None)
        if sealed is None or self.session is None:
            return None
        try:
            return crypto.unwrap_secret(self.session.session_key, sealed, _COPY_PURPOSE,
                                        *self._copy_ids(*memo))
        except crypto.DecryptionFailed:
            return None

    def _opened_slowly(self, memo: tuple[str, str], key: bytes) -> bytes:
        self._opened[memo] = key
        if self.session is not None:
            self._fresh[memo] = key
        return key

    def add_copies(self, case_id: str, copies: Mapping[str, bytes]) -> None:
        """This session's sealed copies of one case's keys (purpose -> sealed key)."""
        for purpose, sealed in copies.items():
            self._copies.setdefault((case_id, purpose), sealed)

    def fresh_copies(self) -> list[tuple[str, str, bytes]]:
        """(case id or OWN, purpose, sealed key) for each key this request opened from its
        wrap, for the session to keep (each handed out once; none outside a signed-in
        request)."""
        fresh, self._fresh = self._fresh, {}
        if self.session is None:
            return []
        return [(case_id, purpose,
                 crypto.wrap_secret(self.session.session_key, key, _COPY_PURPOSE,
                                    *self._copy_ids(case_id, purpose)))
                for (case_id, purpose), key in fresh.items()]

    def _unwrap(self, wrapped: bytes, purpose: str, case_id: str) -> bytes:
        if self._private is None:
            self._private = crypto.PrivateKey(self.private_key)
        return self._private.unwrap_key(wrapped, purpose, case_id, self.user.id)

    def load_case_wraps(self, purposes: Collection[str]) -> None:
        """Read every wrap of these purposes addressed to this user in one statement, so that
        case_key then needs no query per case. Nothing is unwrapped until it is asked for."""
        table, copies = CaseKey.__table__, SessionKey.__table__
        rows = self._db.execute(
            select(table.c.case_id, table.c.purpose, table.c.wrapped, copies.c.key_sealed)
            .outerjoin(copies, and_(copies.c.session_id == self.session_id,
                                    copies.c.case_id == table.c.case_id,
                                    copies.c.purpose == table.c.purpose))
            .where(table.c.recipient_id == self.user.id, table.c.purpose.in_(list(purposes))))
        for case_id, purpose, wrapped, sealed in rows:
            self._wraps[(case_id, purpose)] = wrapped
            if sealed is not None:
                self._copies[(case_id, purpose)] = sealed

    def add_wraps(self, case_id: str, wraps: Mapping[str, bytes]) -> None:
        """Wraps of one case read with its row (purpose -> HPKE wrap), opened on demand."""
        for purpose, wrapped in wraps.items():
            self._wraps.setdefault((case_id, purpose), wrapped)

    def case_key(self, case_id: str, purpose: str) -> bytes:
        """The case's private or shared key, unwrapped with this user's private key."""
        memo = (case_id, purpose)
        key = self._opened.get(memo)
        if key is not None:
            return key
        wrapped = self._wraps.pop(memo, None)
        if wrapped is None:
            wrap = self._db.get(CaseKey, (case_id, purpose, self.user.id))
            if wrap is None:
                raise NoKey(purpose)
            wrapped = wrap.wrapped
        # A copy counts only beside a wrap this user still holds: losing the wrap (a client
        # re-admitted) loses the copy's worth too.
        key = self._from_copy(memo)
        if key is not None:
            self._opened[memo] = key
            return key
        return self._opened_slowly(memo, self._unwrap(wrapped, purpose, case_id))

    def _own_key(self, purpose: str, wrapped: bytes | None) -> bytes:
        memo = (OWN, purpose)
        key = self._opened.get(memo)
        if key is not None:
            return key
        if wrapped is None:
            raise NoKey(purpose)
        key = self._from_copy(memo)
        if key is not None:
            self._opened[memo] = key
            return key
        return self._opened_slowly(memo, self._unwrap(wrapped, purpose, OWN))

    def directory_key(self) -> bytes:
        """The counsellor's directory key, which seals the client names their dashboard lists."""
        return self._own_key(DIRECTORY, self.user.directory_key_wrapped)

    def draft_key(self) -> bytes:
        """The client's own key for unshared drafts (DESIGN 3.2)."""
        return self._own_key(DRAFTS, self.user.draft_key_wrapped)
