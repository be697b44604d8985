"""AES-256-GCM sealing with associated data, and HPKE wraps of random keys (DESIGN 3.1–3.3, 3.5)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from .errors import DecryptionFailed

NONCE_BYTES = 12
_TAG_BYTES = 16
KEY_BYTES = 32
_FIELD_FORMAT = 1
_FIELD_HEADER = struct.Struct(">BI")  # format byte, the field's own content version
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def new_key() -> bytes:
    """A fresh random 256-bit key (case keys, directory keys, client-only keys, session keys)."""
    return secrets.token_bytes(KEY_BYTES)


def random_token(nbytes: int = 32) -> bytes:
    """Random bytes for cookies, invitation secrets and set-up codes."""
    return secrets.token_bytes(nbytes)


def token_hash(token: bytes) -> bytes:
    """SHA-256 of a high-entropy token: what the database keeps instead of the token."""
    return hashlib.sha256(token).digest()


def digests_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)


def encode_link_secret(secret: bytes) -> str:
    """A link secret as URL-fragment-safe text."""
    return base64.urlsafe_b64encode(secret).decode().rstrip("=")


def decode_link_secret(text: str) -> bytes | None:
    """The secret from a pasted link or code, or None if it cannot be one."""
    text = text.strip().rsplit("#", 1)[-1].strip()
    if not 20 <= len(text) <= 64:
        return None
    try:
        secret = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) >= 16 else None


def _seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def _open_with(aead: AESGCM, blob: bytes, ad: bytes, start: int = 0) -> bytes:
    """Open nonce + ciphertext + tag, found in blob from `start` on."""
    if len(blob) < start + NONCE_BYTES + _TAG_BYTES:
        raise DecryptionFailed("ciphertext is too short")
    try:
        return aead.decrypt(blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:], ad)
    except InvalidTag as exc:
        raise DecryptionFailed("ciphertext did not open") from exc


def _open(key: bytes, blob: bytes, ad: bytes) -> bytes:
    return _open_with(AESGCM(key), blob, ad)


# --- key pairs -------------------------------------------------------------------------------


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new X25519 key pair as (private, public) raw bytes."""
    private = X25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
    )


def _part(text: str) -> bytes:
    data = text.encode()
    return b"%d:%s;" % (len(data), data)


def _encode_parts(*parts: str) -> bytes:
    """Length-prefixed, so no choice of ids can make two different lists encode alike."""
    return b"".join(map(_part, parts))


def _key_ad(purpose: str, *ids: str) -> bytes:
    return _encode_parts("journal/v1/key", purpose, *ids)


def wrap_secret(key: bytes, secret: bytes, purpose: str, *ids: str) -> bytes:
    """Seal a key under another key; the purpose and ids are bound as associated data."""
    return _seal(key, secret, _key_ad(purpose, *ids))


def unwrap_secret(key: bytes, wrapped: bytes, purpose: str, *ids: str) -> bytes:
    """Open what wrap_secret sealed, or raise DecryptionFailed."""
    return _open(key, wrapped, _key_ad(purpose, *ids))


def wrap_key_to(
    public_key: bytes, key: bytes, purpose: str, case_id: str, recipient_id: str
) -> bytes:
    """HPKE-wrap a random key to a recipient; info names purpose, case and recipient."""
    info = _key_ad(purpose, case_id, recipient_id)
    return _SUITE.encrypt(key, X25519PublicKey.from_public_bytes(public_key), info=info)


def unwrap_key_with(
    private_key: bytes, wrapped: bytes, purpose: str, case_id: str, recipient_id: str
) -> bytes:
    """Open an HPKE wrap made by wrap_key_to for exactly this purpose, case and recipient."""
    return PrivateKey(private_key).unwrap_key(wrapped, purpose, case_id, recipient_id)


class PrivateKey:
    """A user's X25519 private key, parsed once for the several HPKE opens of one request
    (parsing costs about half an open). Lives as long as its owner, a request's Keyring."""

    __slots__ = ("_key",)

    def __init__(self, private_key: bytes) -> None:
        try:
            self._key: X25519PrivateKey | None = X25519PrivateKey.from_private_bytes(private_key)
        except ValueError:
            self._key = None  # every open fails, as unwrap_key_with always did

    def __repr__(self) -> str:
        return "<PrivateKey>"

    def unwrap_key(self, wrapped: bytes, purpose: str, case_id: str, recipient_id: str
                   ) -> bytes:
        """Open an HPKE wrap made by wrap_key_to for exactly this purpose, case and recipient."""
        if self._key is None:
            raise DecryptionFailed("key wrap did not open")
        info = _key_ad(purpose, case_id, recipient_id)
        try:
            return _SUITE.decrypt(wrapped, self._key, info=info)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed("key wrap did not open") from exc


# --- record fields ---------------------------------------------------------------------------

_FIELD_LABEL = _part("journal/v1/field")
_FIELD_START = _FIELD_HEADER.size  # where nonce + ciphertext + tag begin


@dataclass(frozen=True)
class FieldRef:
    """Where an encrypted field lives. All of it is bound into the ciphertext."""

    table: str
    row_id: str
    column: str
    case_id: str

    def associated_data(self, version: int) -> bytes:
        """The associated data: table, row id, column, case and the field's content version."""
        return b"".join((_FIELD_LABEL, _part(self.table), _part(self.row_id), _part(self.column),
                         _part(self.case_id), _part(str(version))))


def seal_field(key: bytes, plaintext: str, ref: FieldRef, version: int) -> bytes:
    """Encrypt one field; its content version is stored beside the ciphertext and bound into it."""
    header = _FIELD_HEADER.pack(_FIELD_FORMAT, version)
    return header + _seal(key, plaintext.encode("utf-8"), ref.associated_data(version))


def field_version(blob: bytes) -> int:
    """The content version stored in a sealed field's header."""
    if len(blob) < _FIELD_HEADER.size:
        raise DecryptionFailed("field is too short")
    fmt, version = _FIELD_HEADER.unpack_from(blob)
    if fmt != _FIELD_FORMAT:
        raise DecryptionFailed("unknown field format")
    return version


def open_field(key: bytes, blob: bytes, ref: FieldRef) -> str:
    """Decrypt one field, checking it belongs to exactly this table, row, column and case."""
    version = field_version(blob)
    return _open_with(AESGCM(key), blob, ref.associated_data(version), _FIELD_START
                      ).decode("utf-8")


def reseal_field(key: bytes, old_blob: bytes | None, plaintext: str, ref: FieldRef) -> bytes:
    """Seal new content for a field, one content version after the old one."""
    version = field_version(old_blob) + 1 if old_blob else 1
    return seal_field(key, plaintext, ref, version)


class FieldCipher:
    """Opens one column of one table under one key, row after row: what open_field does, with
    one AES-GCM context and the fixed parts of the associated data made once (a search opens
    thousands of fields). Bound to one case, or, with case_id None, to rows of many cases
    sealed under the same key (the dashboard's names, all under the directory key), each
    opened with its own case id. Lives no longer than the caller's key."""

    __slots__ = ("_aead", "_head", "_column", "_tail", "_tails")

    def __init__(self, key: bytes, table: str, column: str, case_id: str | None) -> None:
        self._aead = AESGCM(key)
        self._head = _FIELD_LABEL + _part(table)
        self._column = _part(column)
        self._tail = None if case_id is None else self._column + _part(case_id)
        self._tails: dict[int, bytes] = {}  # content version -> column, case and version

    def __repr__(self) -> str:
        return "<FieldCipher>"

    def open_utf8(self, blob: bytes, row_id: str, case_id: str | None = None) -> bytes:
        """The plaintext of this row's field as its UTF-8 bytes (open_field, not decoded).
        case_id is given exactly when the cipher was made without one."""
        # open_field's steps, inlined: this runs once per note in a search.
        if len(blob) < _FIELD_START + NONCE_BYTES + _TAG_BYTES:
            raise DecryptionFailed("field is too short")
        fmt, version = _FIELD_HEADER.unpack_from(blob)
        if fmt != _FIELD_FORMAT:
            raise DecryptionFailed("unknown field format")
        if (case_id is None) == (self._tail is None):
            raise ValueError("give the case id exactly when the cipher has none")
        if case_id is not None:
            tail = b"%b%b%b" % (self._column, _part(case_id), _part(str(version)))
        elif (tail := self._tails.get(version)) is None:
            tail = self._tails[version] = self._tail + _part(str(version))
        row = row_id.encode()
        try:
            return self._aead.decrypt(blob[_FIELD_START:_FIELD_START + NONCE_BYTES],
                                      blob[_FIELD_START + NONCE_BYTES:],
                                      b"%b%d:%b;%b" % (self._head, len(row), row, tail))
        except InvalidTag as exc:
            raise DecryptionFailed("ciphertext did not open") from exc

    def open(self, blob: bytes, row_id: str, case_id: str | None = None) -> str:
        """The plaintext of this row's field (open_field with FieldRef(table, row_id, ...))."""
        return self.open_utf8(blob, row_id, case_id).decode("utf-8")
