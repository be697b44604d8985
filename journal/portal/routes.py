"""The client's side: a calm home, reflections with autosave, accepting an invitation.

The reflection POSTs read their fields with content_from() and bind no form: CSRFProtect has
checked the token of every POST (security.py), and a form's own check would only defer to
it (binding one cost ~3 % of a submit).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from .. import audit
from ..auth import service as auth
from ..auth import two_factor
from ..auth.context import kdf_settings
from ..auth.forms import JoinForm
from ..auth.routes import failed_sign_in, sign_in, welcome
from ..auth.two_factor_routes import prove_second_step, wrong_code_message
from ..cases import questions
from ..cases.errors import Conflict, InvalidChange, Locked
from ..cases.permissions import client_case_and_next_session, client_case_with_keys
from ..db import get_db
from ..forms import expected_version
from ..models import Case
from ..paging import page_arg
from . import invitations, reflections
from .forms import PROMPT_LABELS, RATING_LABELS, ReflectionForm, content_from

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
def clients_only() -> None:
    """Counsellors never reach a client URL (the public invitation pages aside)."""
    signed_in = g.get("signed_in")
    if signed_in is not None and signed_in.user.is_counsellor:
        abort(404)


def my_case() -> Case:
    """The case this client belongs to, or 404 (an erased case leaves nothing to show)."""
    case = client_case_with_keys(get_db(), g.keyring)
    if case is None:
        abort(404)
    return case


@bp.get("/")
def home() -> ResponseReturnValue:
    db = get_db()
    case, next_session_on = client_case_and_next_session(db, g.keyring)
    if case is None:
        abort(404)
    return render_template(
        "portal/home.html", case=case, next_session_on=next_session_on,
        questions=questions.still_open(db, g.keyring, case),
        reflections=reflections.for_client(db, g.keyring, case, page_arg()),
        form=ReflectionForm(),
    )


@bp.get("/activity")
def activity() -> ResponseReturnValue:
    """Who opened this client's reflections, and when (from the audit log)."""
    db = get_db()
    case = my_case()
    opened = audit.for_case(db, case.id, ("reflection.viewed",))
    written = {r.reflection.id: r.reflection
               for r in reflections.for_client(db, g.keyring, case, page=None).rows}
    return render_template("portal/activity.html", opened=opened, written=written)


@bp.post("/reflections/new")
def new_reflection() -> ResponseReturnValue:
    db = get_db()
    case = my_case()
    try:
        reflection = reflections.start(db, g.keyring, case)
    except Locked:
        flash(_("Your counselling has finished, so new reflections can't be added. "
                "Everything you wrote is still here to read."), "info")
        return redirect(url_for("portal.home"))
    db.commit()
    return redirect(url_for("portal.reflection", reflection_id=reflection.id))


def _render_reflection(reflection_id: str, status: int = 200,
                       content: reflections.ReflectionContent | None = None,
                       conflict: bool = False) -> ResponseReturnValue:
    db = get_db()
    case = my_case()
    reflection = reflections.client_reflection(db, case, reflection_id)
    view = reflections.working_copy(db, g.keyring, reflection)
    form = ReflectionForm()
    form.edit_version.data = str(reflection.edit_version)
    # Decided here, not with {% set %} in the template: a block's variables stay in that
    # block, and the scripts block must know too (or the page never loads its autosave).
    editable = view.version.scope == "client" and case.status == "open"
    return render_template(
        "portal/reflection.html", case=case, view=view, form=form, editable=editable,
        content=content or view.content, conflict=conflict,
        questions=questions.still_open(db, g.keyring, case),
        question_texts=questions.texts_by_id(db, g.keyring, case), prompts=PROMPT_LABELS,
        ratings=RATING_LABELS, max_text=reflections.MAX_TEXT,
        max_answer=reflections.MAX_ANSWER,
    ), status


@bp.get("/reflections/<reflection_id>")
def reflection(reflection_id: str) -> ResponseReturnValue:
    return _render_reflection(reflection_id)


@bp.post("/reflections/<reflection_id>")
def save_reflection(reflection_id: str) -> ResponseReturnValue:
    """Without JavaScript: save the draft, or share it — the button pressed says which."""
    db = get_db()
    case = my_case()  # held: the services below find it in the session instead of a SELECT
    reflection = reflections.client_reflection(db, case, reflection_id)
    content = content_from(request.form)
    try:
        if request.form.get("action") == "share":
            reflections.share(db, g.keyring, reflection, content, expected_version(request.form))
            audit.record(db, "reflection.shared", actor_id=g.keyring.user.id,
                         object_type="reflection", object_id=reflection.id,
                         case_id=reflection.case_id)
            message = _("Shared with your counsellor. Thank you for writing.")
        else:
            reflections.save_draft(db, g.keyring, reflection, content,
                                   expected_version(request.form))
            message = _("Saved. Only you can read this until you share it.")
    except Conflict:
        db.rollback()
        return _render_reflection(reflection_id, 409, content=content, conflict=True)
    except InvalidChange:
        db.rollback()
        flash(_("Something there was longer than we can keep. Please shorten it a little."),
              "error")
        return _render_reflection(reflection_id, 400, content=content)
    except Locked:
        db.rollback()
        return _render_reflection(reflection_id, 409, content=content)
    db.commit()
    flash(message, "success")
    return redirect(url_for("portal.reflection", reflection_id=reflection.id))


@bp.post("/reflections/<reflection_id>/autosave")
def autosave(reflection_id: str) -> ResponseReturnValue:
    """The page saves itself every few seconds and when a field loses focus."""
    db = get_db()
    case = my_case()  # held: the services below find it in the session instead of a SELECT
    reflection = reflections.client_reflection(db, case, reflection_id)
    try:
        new_version = reflections.save_draft(db, g.keyring, reflection,
                                             content_from(request.form),
                                             expected_version(request.form))
    except Conflict:
        db.rollback()
        db.refresh(reflection)
        return jsonify(ok=False, conflict=True, edit_version=reflection.edit_version), 409
    except (InvalidChange, Locked):
        db.rollback()
        return jsonify(ok=False, message=_("This can't be saved as it is.")), 400
    db.commit()
    return jsonify(ok=True, edit_version=new_version,
                   saved_at=format_datetime(reflection.updated_at, "HH:mm"))


@bp.post("/reflections/<reflection_id>/amend")
def amend_reflection(reflection_id: str) -> ResponseReturnValue:
    db = get_db()
    case = my_case()
    reflection = reflections.client_reflection(db, case, reflection_id)
    if case.status != "open":
        abort(400)
    reflections.start_amendment(db, g.keyring, reflection)
    db.commit()
    return redirect(url_for("portal.reflection", reflection_id=reflection.id))


# --- accepting an invitation (public) ---------------------------------------------------------


@bp.get("/invite")
def invite() -> ResponseReturnValue:
    # The secret is in the URL fragment, which browsers never send (DESIGN 3.4).
    return render_template("portal/invite.html", form=JoinForm())


@bp.post("/invite")
def invite_submit() -> ResponseReturnValue:
    form = JoinForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            account = invitations.accept(db, form.secret.data, form.login_name.data,
                                         form.passphrase.data, form.confirm.data,
                                         kdf_settings())
        except auth.InvalidLink:
            return render_template("auth/link_invalid.html"), 404
        except auth.LoginTaken as exc:
            form.login_name.errors.append(str(exc))
        except auth.PolicyError as exc:
            form.passphrase.errors.append(str(exc))
        else:
            if account.second_factor_reset:  # re-admitted with a new key pair
                audit.record_user(db, "auth.second_factor_reset", account.user.id)
            return welcome(db, account, "invitation.accepted", "client_invitation",
                           account.case_id)
    return render_template("portal/invite.html", form=form), 400


@bp.post("/resume")
def resume() -> ResponseReturnValue:
    """Sign in again from an open page whose session ended, without leaving it (JSON)."""
    login_name = request.form.get("login_name", "")[:64]
    passphrase = request.form.get("passphrase", "")[:128]
    db = get_db()
    try:
        account = auth.authenticate(db, login_name, passphrase, kdf_settings())
    except auth.BadCredentials as exc:
        failed_sign_in(db, exc)
        return jsonify(ok=False, message=_("That login name and passphrase don't match.")), 401
    if two_factor.is_on(account.user):
        # The second step is asked here too, so this is no way around it.
        code = request.form.get("code", "")[:32]
        try:
            prove_second_step(db, account.user, account.private_key, code)
        except two_factor.WrongCode as exc:
            message = (_("Please also type the code your authenticator app shows now.")
                       if not code.strip() else wrong_code_message(exc))
            return jsonify(ok=False, message=message), 401
    sign_in(account)
    db.commit()
    return jsonify(ok=True, csrf_token=generate_csrf())
