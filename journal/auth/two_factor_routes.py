"""Two-step sign-in pages: the second step of signing in, and setting it up on the account."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, instance_secrets
from ..db import get_db
from ..models import Practice, User
from ..security import is_safe_next
from . import service, two_factor, web_sessions
from .context import account_of, kdf_settings, refuse_passphrase, unlocked
from .forms import (
    ActionForm,
    BackupCodesStoredForm,
    ConfirmTwoFactorForm,
    PassphraseCheckForm,
    SecondFactorForm,
)
from .routes import bp, home_url, sign_in


def wrong_code_message(exc: two_factor.WrongCode) -> str:
    """Kind words for a code that did not work."""
    if exc.reused:
        return _("That code has just been used. Please wait for the next one your app shows.")
    return _("That code didn't work. Please check it and try the newest one your app shows.")


# --- the second step of signing in ------------------------------------------------------------


def prove_second_step(db: Session, user: User, private_key: bytes, code: str) -> str:
    """Check a TOTP or backup code and audit the outcome; returns which kind it was.

    On a wrong code the failure is recorded and committed (the page that follows changes
    nothing else) and WrongCode is raised again for the caller's kind words.
    """
    try:
        kind = two_factor.verify(db, user, private_key, code, instance_secrets.pepper())
    except two_factor.WrongCode:
        audit.record_user(db, "auth.second_factor_failed", user.id, by_user=False)
        db.commit()
        raise
    audit.record_user(db, "auth.second_factor_ok", user.id)
    if kind == two_factor.BACKUP_CODE:
        audit.record_user(db, "auth.backup_code_used", user.id)
    return kind


@bp.route("/login/two-factor", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    pending = g.get("second_factor_pending")
    if pending is None:  # already fully signed in (without a session, login comes first)
        return redirect(home_url(g.signed_in.user))
    form = SecondFactorForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        db = get_db()
        user = account_of(db, pending)  # the step below records the code it accepted
        try:
            kind = prove_second_step(db, user, pending.private_key, form.code.data)
        except two_factor.WrongCode as exc:
            form.code.data = ""  # a secret: never echoed back
            form.code.errors.append(wrong_code_message(exc))
        else:
            # A fresh session row with a new id; the pending one ends here.
            sign_in(service.Unlocked(user=user, private_key=pending.private_key))
            db.commit()
            if kind == two_factor.BACKUP_CODE:
                left = two_factor.backup_codes_left(db, user)
                flash(_("You used a backup code; %(left)d left. You can make new ones on "
                        "your account page.", left=left), "info")
            target = form.next.data if is_safe_next(form.next.data) else None
            return redirect(target or home_url(user))
    return render_template("auth/second_factor.html", form=form)


# --- setting it up ----------------------------------------------------------------------------


def _names_for_app(user: User) -> tuple[str, str]:
    """(account, issuer) as the authenticator app will list them.

    A client's phone should not say "counselling" to whoever glances at it, so clients get a
    neutral name; counsellors see their practice and login name.
    """
    if user.is_counsellor and user.login_name:
        practice = get_db().scalar(select(Practice.name))
        return user.login_name, practice or _("Counselling Journal")
    return _("Journal"), _("Journal")


def _page(confirm_form: ConfirmTwoFactorForm | None = None,
          off_form: PassphraseCheckForm | None = None,
          codes_form: PassphraseCheckForm | None = None, status: int = 200
          ) -> ResponseReturnValue:
    me = unlocked()
    user = me.user
    enrolment = qr = None
    if not two_factor.is_on(user):
        account, issuer = _names_for_app(user)
        enrolment = two_factor.pending_enrolment(user, me.private_key, account, issuer)
        if enrolment is not None:
            qr = two_factor.qr_svg(enrolment.uri, _("QR code for your authenticator app"))
    required = two_factor.is_required(
        user, bool(current_app.config["REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS"]))
    return render_template(
        "auth/two_factor.html", on=two_factor.is_on(user), required=required,
        enrolment=enrolment, qr=qr,
        left=two_factor.backup_codes_left(get_db(), user) if two_factor.is_on(user) else 0,
        start_form=ActionForm(), confirm_form=confirm_form or ConfirmTwoFactorForm(),
        off_form=off_form or PassphraseCheckForm(prefix="off"),
        codes_form=codes_form or PassphraseCheckForm(prefix="codes"),
    ), status


def _show_backup_codes(codes: list[str]) -> str:
    """The one and only time backup codes are shown; only their HMACs are stored."""
    return render_template("auth/backup_codes_shown.html", codes=codes,
                           form=BackupCodesStoredForm())


@bp.get("/account/two-factor")
def two_factor_page() -> ResponseReturnValue:
    return _page()


@bp.post("/account/two-factor/start")
def start_two_factor() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        me = unlocked()
        if not two_factor.is_on(me.user):
            two_factor.begin_setup(me.user)
            audit.record_user(get_db(), "auth.second_factor_setup_started", me.user.id)
            get_db().commit()
    return redirect(url_for("auth.two_factor_page") + "#set-up")


@bp.post("/account/two-factor/confirm")
def confirm_two_factor() -> ResponseReturnValue:
    form = ConfirmTwoFactorForm()
    me = unlocked()
    if two_factor.is_on(me.user):
        return redirect(url_for("auth.two_factor_page"))
    if form.validate_on_submit():
        db = get_db()
        try:
            codes = two_factor.confirm_setup(db, me.user, me.private_key, form.code.data,
                                             instance_secrets.pepper())
        except two_factor.WrongCode as exc:
            audit.record_user(get_db(), "auth.second_factor_setup_failed", me.user.id)
            db.commit()
            form.code.data = ""
            form.code.errors.append(wrong_code_message(exc))
        else:
            audit.record_user(get_db(), "auth.second_factor_on", me.user.id)
            # Other browsers signed in without the second step; they sign in again with it.
            web_sessions.end_all_for(db, me.user.id, except_session_id=g.signed_in.session_id)
            db.commit()
            return _show_backup_codes(codes)
    return _page(confirm_form=form, status=400)


@bp.post("/account/two-factor/backup-codes/stored")
def backup_codes_stored() -> ResponseReturnValue:
    if BackupCodesStoredForm().validate_on_submit():
        flash(_("Two-step sign-in is on. Thank you for keeping your account safe."), "success")
        return redirect(home_url(g.signed_in.user))
    flash(_("If you could not store your backup codes, you can make new ones here."), "info")
    return redirect(url_for("auth.two_factor_page"))


@bp.post("/account/two-factor/backup-codes")
def new_backup_codes() -> ResponseReturnValue:
    form = PassphraseCheckForm(prefix="codes")
    me = unlocked()
    if form.validate_on_submit() and two_factor.is_on(me.user):
        db = get_db()
        try:
            service.check_passphrase(me.user, form.passphrase.data, kdf_settings())
        except service.BadCredentials:
            refuse_passphrase(form.passphrase)
        else:
            codes = two_factor.replace_backup_codes(db, me.user, instance_secrets.pepper())
            audit.record_user(get_db(), "auth.backup_codes_replaced", me.user.id)
            db.commit()
            return _show_backup_codes(codes)
    return _page(codes_form=form, status=400)


@bp.post("/account/two-factor/off")
def turn_off_two_factor() -> ResponseReturnValue:
    form = PassphraseCheckForm(prefix="off")
    me = unlocked()
    if form.validate_on_submit():
        if two_factor.is_required(
                me.user, bool(current_app.config["REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS"])):
            form.passphrase.errors.append(
                _("Your practice asks counsellors to keep two-step sign-in on, so it stays on."))
            return _page(off_form=form, status=400)
        db = get_db()
        try:
            service.check_passphrase(me.user, form.passphrase.data, kdf_settings())
        except service.BadCredentials:
            refuse_passphrase(form.passphrase)
        else:
            if two_factor.reset(db, me.user):
                audit.record_user(get_db(), "auth.second_factor_off", me.user.id)
            db.commit()
            flash(_("Two-step sign-in is off. You can turn it on again at any time."), "info")
            return redirect(url_for("auth.two_factor_page"))
    return _page(off_form=form, status=400)
