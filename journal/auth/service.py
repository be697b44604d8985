"""Accounts: creating them, proving a passphrase, changing it, recovering with a code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import crypto
from ..keyring import DIRECTORY, DRAFTS
from ..models import (
    COUNSELLOR,
    CounsellorInvitation,
    Practice,
    SetupCode,
    SignedInUser,
    User,
    is_id,
    new_id,
    utcnow,
)
from . import passphrases, two_factor

_LOGIN_PURPOSE = "login-name"
_PASSPHRASE_WRAP = "private-key/passphrase"  # noqa: S105 - a label, not a secret
_RECOVERY_WRAP = "private-key/recovery"
_INVITE_PURPOSE = "counsellor-invitation"
# Used only to spend the same Argon2id time on an unknown login name as on a real one.
_DUMMY_SALT = b"journal-no-user!"


class AuthError(Exception):
    """Base class of this service's domain errors; str() is safe to show."""


class BadCredentials(AuthError):
    """The same error for an unknown login name and a wrong passphrase or code.

    user_id names the account a wrong passphrase was tried against, for the audit log only;
    nothing the person sees differs.
    """

    def __init__(self, user_id: str | None = None) -> None:
        super().__init__()
        self.user_id = user_id


class PolicyError(AuthError):
    """A passphrase or login name that cannot be used; the message says why, kindly."""


class LoginTaken(AuthError):
    """Someone in this practice already uses that login name."""


class InvalidLink(AuthError):
    """An invitation or set-up code that is unknown, used, revoked or expired."""


@dataclass
class Unlocked:
    """A user and their private key, after a passphrase or recovery code proved them."""

    user: User
    private_key: bytes = field(repr=False)  # never in a log or an error report


@dataclass
class NewAccount(Unlocked):
    recovery_code: str = field(repr=False)
    case_id: str | None = None  # set when a client joined a case by invitation
    second_factor_reset: bool = False  # a recovery turned two-step sign-in off


@dataclass(frozen=True)
class KdfSettings:
    params: crypto.KdfParams
    allow_weak: bool
    pepper: bytes = field(repr=False)


def login_lookup(pepper: bytes, login_name: str) -> bytes:
    """How a login name is found without storing it for clients (DESIGN 3)."""
    return crypto.lookup_value(pepper, _LOGIN_PURPOSE, login_name)


def _params_of(user: User) -> crypto.KdfParams:
    return crypto.KdfParams(user.kdf_memory_kib, user.kdf_iterations, user.kdf_lanes)


def _set_passphrase(user: User, private_key: bytes, passphrase: str, kdf: KdfSettings) -> None:
    kdf.params.check(kdf.allow_weak)
    salt = crypto.new_salt()
    keys = crypto.derive_passphrase_keys(passphrase, salt, kdf.params)
    user.kdf_salt = salt
    user.kdf_memory_kib = kdf.params.memory_kib
    user.kdf_iterations = kdf.params.iterations
    user.kdf_lanes = kdf.params.lanes
    user.verifier = crypto.login_verifier(kdf.pepper, keys.login_key)
    user.private_key_wrapped = crypto.wrap_secret(
        keys.key_encryption_key, private_key, _PASSPHRASE_WRAP, user.id
    )


def _set_recovery_code(user: User, private_key: bytes) -> str:
    code = crypto.new_recovery_code()
    user.recovery_salt = crypto.new_salt()
    user.private_key_recovery_wrapped = crypto.wrap_secret(
        crypto.recovery_key(code, user.recovery_salt), private_key, _RECOVERY_WRAP, user.id
    )
    user.recovery_confirmed = False
    return code


def check_new_passphrase(passphrase: str, confirm: str, login_name: str = "") -> None:
    """Raise PolicyError if the passphrase breaks the policy or the two entries differ."""
    problem = passphrases.problem_with(passphrase, login_name)
    if problem:
        raise PolicyError(problem)
    if passphrase != confirm:
        raise PolicyError(str(_l("The two entries are different — please type it again.")))


def create_account(
    db: Session, *, role: str, login_name: str, passphrase: str, kdf: KdfSettings,
    is_admin: bool = False,
) -> NewAccount:
    """A new user with a key pair, a passphrase wrap and a recovery-code wrap."""
    lookup = login_lookup(kdf.pepper, login_name)
    if db.scalar(select(User.id).where(User.login_lookup == lookup)) is not None:
        raise LoginTaken(str(_l("That login name is taken — please choose another.")))
    private_key, public_key = crypto.generate_key_pair()
    user = User(
        id=new_id(),
        role=role,
        login_lookup=lookup,
        login_name=" ".join(login_name.split()) if role == COUNSELLOR else None,
        is_admin=is_admin,
        public_key=public_key,
    )
    _set_passphrase(user, private_key, passphrase, kdf)
    code = _set_recovery_code(user, private_key)
    _give_own_keys(user)
    db.add(user)
    return NewAccount(user=user, private_key=private_key, recovery_code=code)


def _give_own_keys(user: User) -> None:
    """Counsellors get a directory key, clients a drafts key, each wrapped to themself."""
    if user.role == COUNSELLOR:
        user.directory_key_wrapped = crypto.wrap_key_to(
            user.public_key, crypto.new_key(), DIRECTORY, "-", user.id)
    else:
        user.draft_key_wrapped = crypto.wrap_key_to(
            user.public_key, crypto.new_key(), DRAFTS, "-", user.id)


def rekey_account(db: Session, user: User, login_name: str, passphrase: str,
                  kdf: KdfSettings) -> NewAccount:
    """Give an existing user a new key pair, login, passphrase and recovery code.

    Used to re-admit a client who lost both passphrase and code: every old wrap to the old
    public key becomes useless, so the old passphrase and code stop working.
    """
    lookup = login_lookup(kdf.pepper, login_name)
    owner = db.scalar(select(User.id).where(User.login_lookup == lookup))
    if owner is not None and owner != user.id:
        raise LoginTaken(str(_l("That login name is taken — please choose another.")))
    private_key, public_key = crypto.generate_key_pair()
    user.login_lookup = lookup
    user.public_key = public_key
    _set_passphrase(user, private_key, passphrase, kdf)
    code = _set_recovery_code(user, private_key)
    _give_own_keys(user)
    # The old TOTP secret was wrapped to the old key pair: nobody can open it any more.
    reset = two_factor.reset(db, user)
    return NewAccount(user=user, private_key=private_key, recovery_code=code,
                      second_factor_reset=reset)


def authenticate(db: Session, login_name: str, passphrase: str, kdf: KdfSettings) -> Unlocked:
    """Prove a passphrase. Unknown names cost the same Argon2id run and raise the same error."""
    user = db.scalar(select(User).where(User.login_lookup == login_lookup(kdf.pepper, login_name)))
    if user is None:
        crypto.derive_passphrase_keys(passphrase, _DUMMY_SALT, kdf.params)
        raise BadCredentials()
    keys = crypto.derive_passphrase_keys(passphrase, user.kdf_salt, _params_of(user))
    if not crypto.verifier_matches(kdf.pepper, keys.login_key, user.verifier):
        raise BadCredentials(user.id)
    private_key = crypto.unwrap_secret(
        keys.key_encryption_key, user.private_key_wrapped, _PASSPHRASE_WRAP, user.id
    )
    return Unlocked(user=user, private_key=private_key)


def change_passphrase(
    db: Session, unlocked: Unlocked, current: str, new: str, confirm: str, kdf: KdfSettings
) -> None:
    """Re-wrap only the private key under a new passphrase; the current one must be right."""
    user = unlocked.user
    keys = crypto.derive_passphrase_keys(current, user.kdf_salt, _params_of(user))
    if not crypto.verifier_matches(kdf.pepper, keys.login_key, user.verifier):
        raise BadCredentials()
    check_new_passphrase(new, confirm, user.login_name or "")
    _set_passphrase(user, unlocked.private_key, new, kdf)


def new_recovery_code(db: Session, unlocked: Unlocked, passphrase: str, kdf: KdfSettings) -> str:
    """Replace the recovery code (the old one stops working); needs the passphrase."""
    check_passphrase(unlocked.user, passphrase, kdf)
    return _set_recovery_code(unlocked.user, unlocked.private_key)


def check_passphrase(user: User, passphrase: str, kdf: KdfSettings) -> None:
    """Raise BadCredentials unless this is the user's current passphrase."""
    keys = crypto.derive_passphrase_keys(passphrase, user.kdf_salt, _params_of(user))
    if not crypto.verifier_matches(kdf.pepper, keys.login_key, user.verifier):
        raise BadCredentials()


def confirm_recovery_code_stored(unlocked: Unlocked) -> None:
    """The user says they stored the code shown to them."""
    unlocked.user.recovery_confirmed = True


def recover(
    db: Session, login_name: str, code: str, new: str, confirm: str, kdf: KdfSettings
) -> NewAccount:
    """Use a recovery code once: set a new passphrase and issue a new code.

    It also turns two-step sign-in off: the code stands in for a lost phone too, and the
    person sets the second step up again afterwards.
    """
    user = db.scalar(select(User).where(User.login_lookup == login_lookup(kdf.pepper, login_name)))
    if user is None:
        raise BadCredentials()
    try:
        private_key = crypto.unwrap_secret(
            crypto.recovery_key(code, user.recovery_salt),
            user.private_key_recovery_wrapped, _RECOVERY_WRAP, user.id,
        )
    except crypto.DecryptionFailed as exc:
        raise BadCredentials(user.id) from exc
    check_new_passphrase(new, confirm, user.login_name or "")
    _set_passphrase(user, private_key, new, kdf)
    new_code = _set_recovery_code(user, private_key)
    reset = two_factor.reset(db, user)
    return NewAccount(user=user, private_key=private_key, recovery_code=new_code,
                      second_factor_reset=reset)


# --- practice set-up --------------------------------------------------------------------------


def practice_exists(db: Session) -> bool:
    """Whether the practice has been set up (it has at least one counsellor)."""
    return bool(db.scalar(select(func.count()).select_from(Practice)))


def issue_setup_code(db: Session) -> str:
    """A new one-time set-up code for an empty practice; earlier codes stop working."""
    code = crypto.random_token(10).hex()
    grouped = "-".join(code[i : i + 5] for i in range(0, len(code), 5))
    db.execute(delete(SetupCode))
    db.add(SetupCode(code_hash=crypto.token_hash(grouped.encode())))
    return grouped


def _normalise_setup_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch in "0123456789abcdef")
    return "-".join(cleaned[i : i + 5] for i in range(0, len(cleaned), 5))


def set_up_practice(
    db: Session, *, setup_code: str, practice_name: str, login_name: str, passphrase: str,
    confirm: str, kdf: KdfSettings,
) -> NewAccount:
    """Create the practice and its first counsellor (the practice admin) with the set-up code."""
    if practice_exists(db):
        raise InvalidLink()
    wanted = crypto.token_hash(_normalise_setup_code(setup_code).encode())
    stored = db.scalars(select(SetupCode.code_hash)).all()
    if not any(crypto.digests_equal(wanted, h) for h in stored):
        raise InvalidLink(str(_l("That set-up code does not match the one printed in the "
                                 "terminal where the journal was started.")))
    check_new_passphrase(passphrase, confirm, login_name)
    account = create_account(db, role=COUNSELLOR, login_name=login_name, passphrase=passphrase,
                             kdf=kdf, is_admin=True)
    db.add(Practice(id=1, name=" ".join(practice_name.split())))
    db.execute(delete(SetupCode))
    return account


# --- counsellor invitations -------------------------------------------------------------------


def invite_counsellor(db: Session, admin: User | SignedInUser, days: int
                      ) -> tuple[CounsellorInvitation, str]:
    """A single-use invitation for a colleague; returns the secret for the link's fragment."""
    secret = crypto.random_token(20)
    lookup, _key = crypto.secret_lookup_and_key(secret, _INVITE_PURPOSE)
    invitation = CounsellorInvitation(
        id=new_id(), lookup=lookup, invited_by=admin.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.add(invitation)
    return invitation, crypto.encode_link_secret(secret)


def _open_invitation(db: Session, link_secret: str) -> CounsellorInvitation:
    secret = crypto.decode_link_secret(link_secret)
    if secret is None:
        raise InvalidLink()
    lookup, _key = crypto.secret_lookup_and_key(secret, _INVITE_PURPOSE)
    invitation = db.scalar(
        select(CounsellorInvitation).where(CounsellorInvitation.lookup == lookup)
    )
    if (invitation is None or invitation.used_at or invitation.revoked_at
            or invitation.expires_at < utcnow()):
        raise InvalidLink()
    return invitation


def accept_counsellor_invitation(
    db: Session, link_secret: str, login_name: str, passphrase: str, confirm: str,
    kdf: KdfSettings,
) -> NewAccount:
    """Turn a valid invitation into a counsellor account; the link then stops working."""
    invitation = _open_invitation(db, link_secret)
    check_new_passphrase(passphrase, confirm, login_name)
    account = create_account(db, role=COUNSELLOR, login_name=login_name, passphrase=passphrase,
                             kdf=kdf)
    invitation.used_at = utcnow()
    return account


def revoke_counsellor_invitation(db: Session, admin: User | SignedInUser,
                                 invitation_id: str) -> bool:
    """Revoke an unused invitation this admin's practice issued."""
    invitation = db.get(CounsellorInvitation, invitation_id) if is_id(invitation_id) else None
    if invitation is None or invitation.used_at or invitation.revoked_at:
        return False
    invitation.revoked_at = utcnow()
    return True
