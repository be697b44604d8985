"""Passphrase and recovery-code key derivation (DESIGN 3.1): Argon2id, then HKDF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import WeakParameters

# DESIGN 3.1 floor: m = 19 MiB, t = 2.
MIN_MEMORY_KIB = 19 * 1024
MIN_ITERATIONS = 2
SALT_BYTES = 16
RECOVERY_CODE_BITS = 160  # DESIGN asks for at least 128
_CODE_ALPHABET_GROUP = 4


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost, stored beside each user so it can be raised for new passphrases."""

    memory_kib: int
    iterations: int
    lanes: int

    def check(self, allow_weak: bool = False) -> None:
        """Refuse parameters below the floor unless a test configuration allows them."""
        if allow_weak:
            return
        if self.memory_kib < MIN_MEMORY_KIB or self.iterations < MIN_ITERATIONS or self.lanes < 1:
            raise WeakParameters(
                f"Argon2id needs at least m={MIN_MEMORY_KIB} KiB and t={MIN_ITERATIONS}"
            )


@dataclass(frozen=True)
class PassphraseKeys:
    """The two keys one passphrase yields: one proves who you are, one unlocks your key pair."""

    login_key: bytes = field(repr=False)  # never in a log or an error report
    key_encryption_key: bytes = field(repr=False)


def new_salt() -> bytes:
    """A fresh random salt for Argon2id or HKDF."""
    return secrets.token_bytes(SALT_BYTES)


def _hkdf(secret: bytes, salt: bytes | None, label: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=label.encode()
    ).derive(secret)


def derive_passphrase_keys(passphrase: str, salt: bytes, params: KdfParams) -> PassphraseKeys:
    """Run Argon2id once and split its output into a login key and a key-encryption key."""
    master = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(passphrase.encode("utf-8"))
    return PassphraseKeys(
        login_key=_hkdf(master, None, "journal/v1/login-key"),
        key_encryption_key=_hkdf(master, None, "journal/v1/key-encryption-key"),
    )


def login_verifier(pepper: bytes, login_key: bytes) -> bytes:
    """What the server stores to check a login: HMAC(pepper, login key)."""
    return hmac.new(pepper, b"journal/v1/verifier|" + login_key, hashlib.sha256).digest()


def verifier_matches(pepper: bytes, login_key: bytes, stored: bytes) -> bool:
    """Constant-time comparison of a freshly derived verifier with the stored one."""
    return hmac.compare_digest(login_verifier(pepper, login_key), stored)


def audit_mac(key: bytes, previous: bytes, entry: bytes) -> bytes:
    """One link of the audit chain: HMAC(audit key, the previous entry's MAC ‖ this entry)."""
    return hmac.new(key, b"journal/v1/audit|" + previous + entry, hashlib.sha256).digest()


def lookup_value(pepper: bytes, purpose: str, value: str) -> bytes:
    """HMAC(pepper, normalised value): how login names and addresses are looked up, never stored."""
    normalised = " ".join(value.split()).casefold()
    return hmac.new(
        pepper, f"journal/v1/lookup/{purpose}|{normalised}".encode(), hashlib.sha256
    ).digest()


def new_recovery_code() -> str:
    """A one-time recovery code of 160 random bits, grouped for reading aloud and typing."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BITS // 8)).decode().rstrip("=")
    return "-".join(
        raw[i : i + _CODE_ALPHABET_GROUP] for i in range(0, len(raw), _CODE_ALPHABET_GROUP)
    )


def normalise_recovery_code(code: str) -> str:
    """Accept a code typed with spaces, dashes, lower case or the usual look-alikes."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    # Base32 has no 0, 1 or 8; people read them for O, I/L and B.
    cleaned = cleaned.translate(str.maketrans({"0": "O", "1": "I", "8": "B"}))
    return "-".join(
        cleaned[i : i + _CODE_ALPHABET_GROUP] for i in range(0, len(cleaned), _CODE_ALPHABET_GROUP)
    )


def recovery_key(code: str, salt: bytes) -> bytes:
    """The key that wraps the private key a second time. The code has 160 bits: HKDF suffices."""
    return _hkdf(normalise_recovery_code(code).encode(), salt, "journal/v1/recovery-key")


def secret_lookup_and_key(secret: bytes, purpose: str) -> tuple[bytes, bytes]:
    """From a link secret, derive a lookup value (stored) and a wrapping key (never stored)."""
    lookup = _hkdf(secret, None, f"journal/v1/{purpose}/lookup")
    key = _hkdf(secret, None, f"journal/v1/{purpose}/wrap")
    return lookup, key
