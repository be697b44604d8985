"""Client invitations (DESIGN 3.4): the link's secret is the only way to the wrapped case key."""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.orm import Session

from .. import crypto
from ..auth import service as auth
from ..auth import web_sessions
from ..cases.errors import InvalidChange
from ..keyring import Keyring
from ..models import (
    CLIENT,
    CLIENT_ONLY,
    SHARED,
    Case,
    CaseKey,
    ClientInvitation,
    Reflection,
    ReflectionVersion,
    User,
    new_id,
    utcnow,
)

_PURPOSE = "client-invitation"


@functools.cache
def _pending_query() -> Select:
    # Built once, bound per request (see "Statements" in db.py): every case page asks.
    return select(ClientInvitation).where(
        ClientInvitation.case_id == bindparam("case_id"), ClientInvitation.used_at.is_(None),
        ClientInvitation.revoked_at.is_(None), ClientInvitation.expires_at > bindparam("now"),
    ).order_by(ClientInvitation.created_at.desc()).limit(1)


def pending(db: Session, case: Case) -> ClientInvitation | None:
    """The case's invitation that can still be used, if any."""
    return db.scalar(_pending_query(), {"case_id": case.id, "now": utcnow()})


def revoke_all(db: Session, case: Case) -> int:
    """Revoke every unused invitation of the case; its wrapped key is deleted with it."""
    result = db.execute(
        update(ClientInvitation)
        .where(ClientInvitation.case_id == case.id, ClientInvitation.used_at.is_(None),
               ClientInvitation.revoked_at.is_(None))
        .values(revoked_at=utcnow(), shared_key_wrapped=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def forget_expired(db: Session) -> int:
    """Delete the wrapped case key of every invitation that expired unused."""
    result = db.execute(
        update(ClientInvitation)
        .where(ClientInvitation.expires_at <= utcnow(),
               ClientInvitation.shared_key_wrapped.is_not(None))
        .values(shared_key_wrapped=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def create(db: Session, keyring: Keyring, case: Case, days: int, readmit: bool
           ) -> tuple[ClientInvitation, str]:
    """A single-use link for the client (or, with readmit, for re-admitting them)."""
    if case.status != "open":
        raise InvalidChange("closed")
    if readmit != (case.client_id is not None):
        raise InvalidChange("readmit")
    revoke_all(db, case)
    secret = crypto.random_token(20)
    lookup, wrap_key = crypto.secret_lookup_and_key(secret, _PURPOSE)
    invitation_id = new_id()
    invitation = ClientInvitation(
        id=invitation_id, case_id=case.id, lookup=lookup, readmit=readmit,
        created_by=keyring.user.id, expires_at=utcnow() + timedelta(days=days),
        shared_key_wrapped=crypto.wrap_secret(wrap_key, keyring.case_key(case.id, SHARED),
                                              _PURPOSE, case.id, invitation_id),
    )
    db.add(invitation)
    return invitation, crypto.encode_link_secret(secret)


def _open(db: Session, link_secret: str) -> tuple[ClientInvitation, Case, bytes]:
    secret = crypto.decode_link_secret(link_secret)
    if secret is None:
        raise auth.InvalidLink()
    lookup, wrap_key = crypto.secret_lookup_and_key(secret, _PURPOSE)
    invitation = db.scalar(select(ClientInvitation).where(ClientInvitation.lookup == lookup))
    if (invitation is None or invitation.used_at or invitation.revoked_at
            or invitation.shared_key_wrapped is None or invitation.expires_at < utcnow()):
        raise auth.InvalidLink()
    case = db.get(Case, invitation.case_id)
    if case is None or case.status != "open":
        raise auth.InvalidLink()
    try:
        shared_key = crypto.unwrap_secret(wrap_key, invitation.shared_key_wrapped, _PURPOSE,
                                          case.id, invitation.id)
    except crypto.DecryptionFailed as exc:
        raise auth.InvalidLink() from exc
    return invitation, case, shared_key


def check(db: Session, link_secret: str) -> None:
    """Raise InvalidLink unless the link can still be used (reveals nothing about the case)."""
    _open(db, link_secret)


def _forget_old_keys(db: Session, user: User) -> None:
    """Re-admission: the old key pair is gone, so are its wraps, sessions and unreadable drafts."""
    db.execute(delete(CaseKey).where(CaseKey.recipient_id == user.id))
    web_sessions.end_all_for(db, user.id)
    draft_versions = select(ReflectionVersion.id).join(
        Reflection, Reflection.id == ReflectionVersion.reflection_id
    ).where(Reflection.client_id == user.id, ReflectionVersion.scope == CLIENT_ONLY)
    db.execute(delete(ReflectionVersion).where(ReflectionVersion.id.in_(draft_versions)))
    db.execute(delete(Reflection).where(Reflection.client_id == user.id,
                                        Reflection.status == "draft"))


def accept(db: Session, link_secret: str, login_name: str, passphrase: str, confirm: str,
           kdf: auth.KdfSettings) -> auth.NewAccount:
    """Turn the link into the client's account (or re-key it) with the shared case key."""
    invitation, case, shared_key = _open(db, link_secret)
    auth.check_new_passphrase(passphrase, confirm, login_name)
    if invitation.readmit and case.client_id:
        user = db.get(User, case.client_id)
        _forget_old_keys(db, user)
        account = auth.rekey_account(db, user, login_name, passphrase, kdf)
    else:
        account = auth.create_account(db, role=CLIENT, login_name=login_name,
                                      passphrase=passphrase, kdf=kdf)
        db.flush()
        case.client_id = account.user.id
    db.add(CaseKey(case_id=case.id, purpose=SHARED, recipient_id=account.user.id,
                   wrapped=crypto.wrap_key_to(account.user.public_key, shared_key, SHARED,
                                              case.id, account.user.id)))
    invitation.used_at = utcnow()
    invitation.shared_key_wrapped = None
    account.case_id = case.id
    return account
