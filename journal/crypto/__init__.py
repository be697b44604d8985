"""All cryptography of the journal. No other module imports a cipher (DESIGN 3.3).

Layers, outermost first:
- kdf: passphrase -> Argon2id -> HKDF -> (login key, key-encryption key); recovery codes;
  HMAC lookups under the pepper; the audit chain's HMAC.
- otp: TOTP codes (pyotp) and backup codes; the TOTP secret is wrapped like any other key.
- envelope: X25519 key pairs; HPKE wraps of case keys; AES-256-GCM sealing of keys and of
  record fields with associated data naming table, row, column, case and content version.
  PrivateKey and FieldCipher hold a parsed key for many opens: a request's Keyring, or one
  search, keeps them, and nothing outlives the request.
"""

from .envelope import (
    FieldCipher,
    FieldRef,
    PrivateKey,
    decode_link_secret,
    digests_equal,
    encode_link_secret,
    field_version,
    generate_key_pair,
    new_key,
    open_field,
    random_token,
    reseal_field,
    seal_field,
    token_hash,
    unwrap_key_with,
    unwrap_secret,
    wrap_key_to,
    wrap_secret,
)
from .errors import CryptoError, DecryptionFailed, WeakParameters
from .kdf import (
    KdfParams,
    PassphraseKeys,
    audit_mac,
    derive_passphrase_keys,
    login_verifier,
    lookup_value,
    new_recovery_code,
    new_salt,
    normalise_recovery_code,
    recovery_key,
    secret_lookup_and_key,
    verifier_matches,
)
from .otp import (
    backup_code_lookup,
    looks_like_totp,
    new_backup_codes,
    new_totp_secret,
    normalise_backup_code,
    totp_code_at,
    totp_secret_text,
    totp_step,
    totp_uri,
)

__all__ = [
    "CryptoError",
    "DecryptionFailed",
    "FieldCipher",
    "FieldRef",
    "KdfParams",
    "PassphraseKeys",
    "PrivateKey",
    "WeakParameters",
    "audit_mac",
    "backup_code_lookup",
    "decode_link_secret",
    "derive_passphrase_keys",
    "digests_equal",
    "encode_link_secret",
    "field_version",
    "generate_key_pair",
    "login_verifier",
    "looks_like_totp",
    "lookup_value",
    "new_backup_codes",
    "new_key",
    "new_recovery_code",
    "new_salt",
    "new_totp_secret",
    "normalise_backup_code",
    "normalise_recovery_code",
    "open_field",
    "random_token",
    "recovery_key",
    "reseal_field",
    "seal_field",
    "secret_lookup_and_key",
    "token_hash",
    "totp_code_at",
    "totp_secret_text",
    "totp_step",
    "totp_uri",
    "unwrap_key_with",
    "unwrap_secret",
    "verifier_matches",
    "wrap_key_to",
    "wrap_secret",
]
