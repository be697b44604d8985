"""The practice admin's page: colleagues, invitations and counts — never a client's content."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import audit, instance_secrets
from ..auth import service as auth_service
from ..auth.forms import ActionForm
from ..db import get_db
from . import service

bp = Blueprint("practice", __name__, url_prefix="/practice")


@bp.before_request
def admins_only() -> None:
    """Only the practice admin; to everyone else this page does not exist."""
    signed_in = g.get("signed_in")
    if signed_in is None or not signed_in.user.is_admin:
        abort(404)


def _render(link: str | None = None) -> str:
    db = get_db()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    verdict = audit.verify(db, instance_secrets.load(app).audit_key, app.instance_path)
    return render_template("practice/admin.html", health=service.health(db), audit=verdict,
                           counsellors=service.counsellors(db),
                           invitations=service.pending_invitations(db), link=link,
                           action_form=ActionForm())


@bp.get("/")
def admin() -> ResponseReturnValue:
    return _render()


@bp.post("/invitations")
def invite() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    invitation, secret = auth_service.invite_counsellor(
        db, g.signed_in.user, current_app.config["INVITATION_DAYS"])
    audit.record(db, "admin.counsellor_invited", actor_id=g.signed_in.user.id,
                 object_type="counsellor_invitation", object_id=invitation.id)
    db.commit()
    # The secret goes in the fragment: browsers never send it, so no server log can hold it.
    link = url_for("auth.join", _external=True) + "#" + secret
    return _render(link)


@bp.post("/invitations/<invitation_id>/revoke")
def revoke(invitation_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_db()
    if not auth_service.revoke_counsellor_invitation(db, g.signed_in.user, invitation_id[:36]):
        abort(404)
    audit.record(db, "admin.invitation_revoked", actor_id=g.signed_in.user.id,
                 object_type="counsellor_invitation", object_id=invitation_id[:36])
    db.commit()
    flash(_("Invitation revoked. The link no longer works."), "info")
    return redirect(url_for("practice.admin"))
