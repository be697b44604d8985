"""Exceptions of the crypto module: callers never see a cipher library's own errors."""


class CryptoError(Exception):
    """Base class for everything the crypto module raises."""


class DecryptionFailed(CryptoError):
    """A ciphertext did not open: wrong key, or moved to another row, column, case or purpose."""


class WeakParameters(CryptoError):
    """Key-derivation parameters below the floor set in DESIGN section 3.1."""
