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


def _open(key: bytes, blob: bytes, ad: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionFailed("ciphertext is too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)
    except InvalidTag as exc:
        raise DecryptionFailed("ciphertext did not open") from exc


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


def _encode_parts(*parts: str) -> bytes:
    """Length-prefixed, so no choice of ids can make two different lists encode alike."""
    return b"".join(b"%d:%s;" % (len(p.encode()), p.encode()) for p in parts)


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
    info = _key_ad(purpose, case_id, recipient_id)
    try:
        return _SUITE.decrypt(wrapped, X25519PrivateKey.from_private_bytes(private_key), info=info)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("key wrap did not open") from exc


# --- record fields ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    """Where an encrypted field lives. All of it is bound into the ciphertext."""

    table: str
    row_id: str
    column: str
    case_id: str

    def associated_data(self, version: int) -> bytes:
        """The associated data: table, row id, column, case and the field's content version."""
        return _encode_parts(
            "journal/v1/field", self.table, self.row_id, self.column, self.case_id, str(version)
        )


def seal_field(key: bytes, plaintext: str, ref: FieldRef, version: int) -> bytes:
    """Encrypt one field; its content version is stored beside the ciphertext and bound into it."""
    header = _FIELD_HEADER.pack(_FIELD_FORMAT, version)
    return header + _seal(key, plaintext.encode("utf-8"), ref.associated_data(version))


def field_version(blob: bytes) -> int:
    """The content version stored in a sealed field's header."""
    fmt, version = _FIELD_HEADER.unpack_from(blob)
    if fmt != _FIELD_FORMAT:
        raise DecryptionFailed("unknown field format")
    return version


def open_field(key: bytes, blob: bytes, ref: FieldRef) -> str:
    """Decrypt one field, checking it belongs to exactly this table, row, column and case."""
    if len(blob) < _FIELD_HEADER.size:
        raise DecryptionFailed("field is too short")
    version = field_version(blob)
    return _open(key, blob[_FIELD_HEADER.size :], ref.associated_data(version)).decode("utf-8")


def reseal_field(key: bytes, old_blob: bytes | None, plaintext: str, ref: FieldRef) -> bytes:
    """Seal new content for a field, one content version after the old one."""
    version = field_version(old_blob) + 1 if old_blob else 1
    return seal_field(key, plaintext, ref, version)
