"""Set-up, sign-in and sign-out, joining by invitation, recovery, and the account page."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import audit
from ..db import get_db
from ..models import SignedInUser, User
from ..security import (
    clear_session_cookie,
    is_safe_next,
    set_session_cookie,
)
from . import service, two_factor, web_sessions
from .context import kdf_settings, refuse_passphrase, unlocked
from .forms import (
    ActionForm,
    ChangePassphraseForm,
    ConfirmStoredForm,
    JoinForm,
    LoginForm,
    PassphraseCheckForm,
    RecoverForm,
    SetupForm,
)

bp = Blueprint("auth", __name__)


def failed_sign_in(db: Session, exc: service.BadCredentials,
                   action: str = "auth.sign_in_failed") -> None:
    """Audit a failed attempt (with the account, if the name was real) — committed at once,
    since the page that follows changes nothing else."""
    audit.record_user(db, action, exc.user_id, by_user=False)
    db.commit()


def home_url(user: User | SignedInUser) -> str:
    """Counsellors start at their cases, clients at their own calm page."""
    return url_for("cases.dashboard") if user.is_counsellor else url_for("portal.home")


def _current_session() -> web_sessions.SignedIn | None:
    """This browser's session row, whether fully signed in or still waiting for its second
    step."""
    return g.get("signed_in") or g.get("second_factor_pending")


def _end_current_session(db: Session) -> None:
    current = _current_session()
    if current is not None:
        web_sessions.end(db, current.session_id)


def sign_in(account: service.Unlocked) -> None:
    """Start a fresh session row (a new id on every sign-in) and end the one we came in with."""
    db = get_db()
    audit.record_user(db, "auth.sign_in", account.user.id)
    _end_current_session(db)
    set_session_cookie(web_sessions.start(db, account.user, account.private_key))


def ask_for_second_factor(account: service.Unlocked) -> None:
    """The passphrase is proven; start a session that can only give the second step."""
    db = get_db()
    audit.record_user(db, "auth.second_factor_asked", account.user.id)
    _end_current_session(db)
    set_session_cookie(web_sessions.start(db, account.user, account.private_key,
                                          second_factor_pending=True))


def show_recovery_code(account: service.NewAccount) -> str:
    """The one and only time a recovery code is shown; it is never stored in the clear."""
    return render_template("auth/recovery_code_shown.html", code=account.recovery_code,
                           form=ConfirmStoredForm())


def welcome(db: Session, account: service.NewAccount, action: str, object_type: str,
            case_id: str | None = None) -> str:
    """A new, recovered or re-admitted account: audit it, sign in, commit, show the code."""
    if object_type == "user":
        audit.record_user(db, action, account.user.id)
    else:
        audit.record(db, action, actor_id=account.user.id, object_type=object_type,
                     case_id=case_id)
    sign_in(account)
    db.commit()
    return show_recovery_code(account)


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    db = get_db()
    if service.practice_exists(db):
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        try:
            account = service.set_up_practice(
                db, setup_code=form.setup_code.data, practice_name=form.practice_name.data,
                login_name=form.login_name.data, passphrase=form.passphrase.data,
                confirm=form.confirm.data, kdf=kdf_settings(),
            )
        except service.InvalidLink as exc:
            form.setup_code.errors.append(str(exc) or _("That set-up code is not valid."))
        except service.PolicyError as exc:
            form.passphrase.errors.append(str(exc))
        else:
            return welcome(db, account, "practice.set_up", "practice")
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if g.get("signed_in") is not None:
        return redirect(home_url(g.signed_in.user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        db = get_db()
        try:
            account = service.authenticate(db, form.login_name.data, form.passphrase.data,
                                           kdf_settings())
        except service.BadCredentials as exc:
            failed_sign_in(db, exc)
            form.passphrase.errors.append(
                _("That login name and passphrase don't match. Please try again."))
        else:
            target = form.next.data if is_safe_next(form.next.data) else None
            if two_factor.is_on(account.user):
                ask_for_second_factor(account)
                db.commit()
                return redirect(url_for("auth.second_factor", next=target))
            sign_in(account)
            db.commit()
            return redirect(target or home_url(account.user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = ActionForm()
    # A session still waiting for its second step may be left too.
    current = _current_session()
    if form.validate_on_submit() and current is not None:
        db = get_db()
        audit.record_user(db, "auth.sign_out", current.user.id)
        _end_current_session(db)
        db.commit()
    clear_session_cookie()
    flash(_("You are signed out. Take care."), "info")
    if request.form.get("then") == "recover":  # from the second step: "I lost my phone"
        return redirect(url_for("auth.recover"))
    return redirect(url_for("auth.login"))


@bp.get("/join")
def join() -> ResponseReturnValue:
    # The secret arrives in the URL fragment, which browsers never send; a static script
    # copies it into the form, and without JavaScript the person pastes the link.
    return render_template("auth/join.html", form=JoinForm())


@bp.post("/join")
def join_submit() -> ResponseReturnValue:
    form = JoinForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            account = service.accept_counsellor_invitation(
                db, form.secret.data, form.login_name.data, form.passphrase.data,
                form.confirm.data, kdf_settings(),
            )
        except service.InvalidLink:
            return render_template("auth/link_invalid.html"), 404
        except service.LoginTaken as exc:
            form.login_name.errors.append(str(exc))
        except service.PolicyError as exc:
            form.passphrase.errors.append(str(exc))
        else:
            return welcome(db, account, "invitation.accepted", "counsellor_invitation")
    return render_template("auth/join.html", form=form)


@bp.route("/recover", methods=["GET", "POST"])
def recover() -> ResponseReturnValue:
    form = RecoverForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            account = service.recover(db, form.login_name.data, form.recovery_code.data,
                                      form.passphrase.data, form.confirm.data, kdf_settings())
        except service.BadCredentials as exc:
            failed_sign_in(db, exc, "auth.recovery_failed")
            form.recovery_code.data = ""  # a secret: never echoed back into the page
            form.recovery_code.errors.append(
                _("That login name and recovery code don't match. Please check the code."))
        except service.PolicyError as exc:
            form.passphrase.errors.append(str(exc))
        else:
            if account.second_factor_reset:
                audit.record_user(db, "auth.second_factor_reset", account.user.id)
                flash(_("Two-step sign-in is off now, since the recovery code stood in for "
                        "it. You can set it up again from your account page."), "info")
            # Whoever held the lost passphrase is signed out everywhere.
            web_sessions.end_all_for(db, account.user.id)
            return welcome(db, account, "auth.recovery_used", "user")
    return render_template("auth/recover.html", form=form)


@bp.get("/account")
def account() -> ResponseReturnValue:
    return render_template("auth/account.html", passphrase_form=ChangePassphraseForm(),
                           code_form=PassphraseCheckForm(), action_form=ActionForm())


@bp.post("/account/passphrase")
def change_passphrase() -> ResponseReturnValue:
    form = ChangePassphraseForm()
    if form.validate_on_submit():
        db = get_db()
        me = unlocked()
        try:
            service.change_passphrase(db, me, form.current.data, form.passphrase.data,
                                      form.confirm.data, kdf_settings())
        except service.BadCredentials:
            refuse_passphrase(form.current)
        except service.PolicyError as exc:
            form.passphrase.errors.append(str(exc))
        else:
            # Every other browser is signed out; this one continues under a new session id.
            audit.record_user(db, "auth.passphrase_changed", me.user.id)
            web_sessions.end_all_for(db, me.user.id)
            set_session_cookie(web_sessions.start(db, me.user, me.private_key))
            db.commit()
            flash(_("Your passphrase is changed. Other devices were signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", passphrase_form=form,
                           code_form=PassphraseCheckForm(), action_form=ActionForm()), 400


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> ResponseReturnValue:
    form = ActionForm()
    if form.validate_on_submit():
        db = get_db()
        audit.record_user(db, "auth.sign_out_everywhere", g.signed_in.user.id)
        web_sessions.end_all_for(db, g.signed_in.user.id)
        db.commit()
        clear_session_cookie()
        flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account/recovery-code")
def recovery_code() -> ResponseReturnValue:
    return render_template("auth/recovery_code_new.html", form=PassphraseCheckForm(),
                           confirm_form=ConfirmStoredForm())


@bp.post("/account/recovery-code")
def new_recovery_code() -> ResponseReturnValue:
    form = PassphraseCheckForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            code = service.new_recovery_code(db, unlocked(), form.passphrase.data, kdf_settings())
        except service.BadCredentials:
            refuse_passphrase(form.passphrase)
        else:
            audit.record_user(db, "auth.recovery_code_replaced", g.signed_in.user.id)
            db.commit()
            return render_template("auth/recovery_code_shown.html", code=code,
                                   form=ConfirmStoredForm())
    return render_template("auth/recovery_code_new.html", form=form,
                           confirm_form=ConfirmStoredForm()), 400


@bp.post("/account/recovery-code/confirm")
def confirm_recovery_code() -> ResponseReturnValue:
    form = ConfirmStoredForm()
    if form.validate_on_submit():
        db = get_db()
        me = unlocked()
        service.confirm_recovery_code_stored(me)
        db.commit()
        return redirect(home_url(me.user))
    return render_template("auth/recovery_code_new.html", form=PassphraseCheckForm(),
                           confirm_form=form), 400


from . import two_factor_routes  # noqa: E402,F401 - it adds views to bp
