"""Forms for set-up, sign-in, invitations, recovery and the account page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from ..forms import JournalForm
from .passphrases import MAX_LENGTH

_REQUIRED = _l("Please fill this in.")
# Login and practice names are stored in the clear: printable characters only.
_PRINTABLE = Regexp(r"^[^\x00-\x1f\x7f]*\Z", message=_l("Please use letters, digits and "
                                                         "punctuation only."))


def login_name_field() -> StringField:
    return StringField(
        _l("Login name"),
        validators=[DataRequired(_REQUIRED), Length(min=3, max=64), _PRINTABLE],
        description=_l("What you will type to sign in. 3 to 64 characters."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


def new_passphrase_fields() -> tuple[PasswordField, PasswordField]:
    # The same kind words as the policy (passphrases.py), not WTForms' "Field cannot be longer".
    too_long = _l("Please keep it to %(max)d characters or fewer.")
    passphrase = PasswordField(
        _l("Passphrase"),
        validators=[InputRequired(_REQUIRED), Length(max=MAX_LENGTH, message=too_long)],
        description=_l("At least 12 characters. A few unrelated words you can remember "
                       "work well. Nobody — not even us — can reset it for you."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same passphrase again"),
        validators=[InputRequired(_REQUIRED), Length(max=MAX_LENGTH, message=too_long)],
        render_kw={"autocomplete": "new-password"},
    )
    return passphrase, confirm


class SetupForm(JournalForm):
    setup_code = StringField(
        _l("Set-up code"), validators=[DataRequired(_REQUIRED), Length(max=64)],
        description=_l("Printed in the terminal where the journal was started."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    practice_name = StringField(
        _l("Name of your practice"),
        validators=[DataRequired(_REQUIRED), Length(max=120), _PRINTABLE],
        description=_l("Shown at the top of every page. It is not kept secret."),
    )
    login_name = login_name_field()
    passphrase, confirm = new_passphrase_fields()


class LoginForm(JournalForm):
    login_name = StringField(
        _l("Login name"), validators=[DataRequired(_REQUIRED), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    passphrase = PasswordField(
        _l("Passphrase"), validators=[InputRequired(_REQUIRED), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class JoinForm(JournalForm):
    secret = StringField(
        _l("Invitation link or code"), validators=[DataRequired(_REQUIRED), Length(max=512)],
        description=_l("If this box is empty, paste the whole link you were sent."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    login_name = login_name_field()
    passphrase, confirm = new_passphrase_fields()


class RecoverForm(JournalForm):
    login_name = StringField(
        _l("Login name"), validators=[DataRequired(_REQUIRED), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    recovery_code = StringField(
        _l("Recovery code"), validators=[DataRequired(_REQUIRED), Length(max=80)],
        description=_l("The code you stored when you signed up, or the newest one since."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    passphrase, confirm = new_passphrase_fields()


class ChangePassphraseForm(JournalForm):
    current = PasswordField(
        _l("Current passphrase"), validators=[InputRequired(_REQUIRED), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    passphrase, confirm = new_passphrase_fields()


class PassphraseCheckForm(JournalForm):
    passphrase = PasswordField(
        _l("Your passphrase"), validators=[InputRequired(_REQUIRED), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmStoredForm(JournalForm):
    stored = BooleanField(
        _l("I have stored this recovery code somewhere safe, away from this computer."),
        validators=[DataRequired(_l("Please confirm once the code is stored safely."))],
    )


class ActionForm(JournalForm):
    """A button that changes something: only the CSRF token."""


def _code_field(label: str, description: str | None = None) -> StringField:
    return StringField(
        label, validators=[DataRequired(_REQUIRED),
                           Length(max=32, message=_l("That is longer than any code we make."))],
        description=description,
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                   "spellcheck": "false"},
    )


class SecondFactorForm(JournalForm):
    """The second step of signing in: a code from the app, or a backup code."""

    code = _code_field(
        _l("Code"),
        _l("The 6-digit code your authenticator app shows now, or one of your backup codes."))
    next = HiddenField()


class ConfirmTwoFactorForm(JournalForm):
    code = _code_field(_l("The 6-digit code your app shows now"))


class BackupCodesStoredForm(JournalForm):
    stored = BooleanField(
        _l("I have stored these backup codes somewhere safe, away from my phone."),
        validators=[DataRequired(_l("Please confirm once the codes are stored safely."))],
    )
