"""The counsellor's side of the loop: inviting the client, reading reflections, the brief."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..audit_labels import audit_labels
from ..auth.forms import ActionForm
from ..db import get_db
from ..models import User
from ..portal import invitations
from ..portal import reflections as reflections_service
from ..portal.forms import PROMPT_LABELS, RATING_LABELS
from . import brief as brief_service
from . import questions
from .errors import InvalidChange
from .routes import audit_case, bp, own_case


@bp.post("/cases/<case_id>/invitation")
def invite_client(case_id: str) -> ResponseReturnValue:
    db = get_db()
    case = own_case(case_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("cases.case", case_id=case.id))
    readmit = request.form.get("readmit") == "1"
    try:
        invitation, secret = invitations.create(
            db, g.keyring, case, current_app.config["INVITATION_DAYS"], readmit)
    except InvalidChange:
        flash(_("An invitation can't be made for this case right now."), "error")
        return redirect(url_for("cases.case", case_id=case.id))
    audit_case(db, "invitation.readmit_created" if readmit else "invitation.created", case,
               "client_invitation", invitation.id)
    db.commit()
    # The secret travels in the fragment: browsers never send it, so no log can hold it.
    link = url_for("portal.invite", _external=True) + "#" + secret
    return render_template("cases/invitation.html", case=case, link=link, readmit=readmit,
                           days=current_app.config["INVITATION_DAYS"])


@bp.post("/cases/<case_id>/invitation/revoke")
def revoke_invitation(case_id: str) -> ResponseReturnValue:
    db = get_db()
    case = own_case(case_id)
    if ActionForm().validate_on_submit() and invitations.revoke_all(db, case):
        audit_case(db, "invitation.revoked", case, "client_invitation")
        db.commit()
        flash(_("Invitation revoked. The link no longer works."), "info")
    return redirect(url_for("cases.case", case_id=case.id))


@bp.get("/cases/<case_id>/reflections/<reflection_id>")
def reflection(case_id: str, reflection_id: str) -> ResponseReturnValue:
    """Reading a reflection marks it read: one of the few writes a GET makes."""
    db = get_db()
    case = own_case(case_id)
    found = reflections_service.shared_in_case(db, case, reflection_id)
    versions = reflections_service.shared_versions(db, g.keyring, found)
    for version, _content in versions:
        reflections_service.mark_read(version)
    audit_case(db, "reflection.viewed", case, "reflection", found.id)
    db.commit()
    texts = questions.texts_by_id(db, g.keyring, case)
    return render_template("cases/reflection.html", case=case, reflection=found,
                           versions=versions, question_texts=texts, prompts=PROMPT_LABELS,
                           ratings=RATING_LABELS)


@bp.get("/cases/<case_id>/log")
def case_log(case_id: str) -> ResponseReturnValue:
    """Who did what in this case, and when — from the tamper-evident audit log."""
    db = get_db()
    case = own_case(case_id)
    entries = audit.for_case(db, case.id)
    names = {u.id: u.login_name for u in db.scalars(
        select(User).where(User.id.in_({e.actor_id for e in entries if e.actor_id})))}
    return render_template("cases/log.html", case=case, entries=entries, names=names,
                           labels=audit_labels())


@bp.get("/cases/<case_id>/brief")
def brief(case_id: str) -> ResponseReturnValue:
    case = own_case(case_id)
    return render_template("cases/brief.html", case=case, today=date.today(),
                           brief=brief_service.build(get_db(), g.keyring, case),
                           prompts=PROMPT_LABELS)
