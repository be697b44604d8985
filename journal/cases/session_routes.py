"""Sessions, their notes and the open questions asked in them."""

from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..db import get_db
from ..models import DRAFT, SIGNED, Case, CounsellingSession, Note
from . import notes, questions, sessions
from .errors import Conflict, InvalidChange, Locked, NotFound
from .forms import (
    MoveQuestionForm,
    QuestionForm,
    SessionForm,
    StartNoteForm,
    note_sections_form,
    posted_note,
)
from .permissions import (
    own_note_with_keys,
    own_session_with_keys,
    question_in_case,
    session_in_case,
)
from .routes import audit_case, bp, own_case


def _case_session_note(case_id: str, session_id: str
                       ) -> tuple[Case, CounsellingSession, Note | None]:
    """The case, the session and its note (None until one is started), in one statement."""
    return own_session_with_keys(get_db(), g.keyring, case_id, session_id)


def _case_and_session(case_id: str, session_id: str) -> tuple[Case, CounsellingSession]:
    the_case, the_session, _note = _case_session_note(case_id, session_id)
    return the_case, the_session


@bp.route("/cases/<case_id>/sessions/new", methods=["GET", "POST"])
def new_session(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    form = SessionForm()
    if request.method == "GET":
        form.held_on.data = date.today()
    if form.validate_on_submit():
        db = get_db()
        session = sessions.add_session(db, the_case, form.held_on.data,
                                       form.duration_minutes.data, form.attendance.data)
        db.commit()
        return redirect(url_for("cases.session", case_id=the_case.id, session_id=session.id))
    return render_template("cases/session_form.html", case=the_case, form=form,
                           session=None), 400 if form.errors else 200


@bp.route("/cases/<case_id>/sessions/<session_id>/edit", methods=["GET", "POST"])
def edit_session(case_id: str, session_id: str) -> ResponseReturnValue:
    the_case, session = _case_and_session(case_id, session_id)
    form = SessionForm(obj=session if request.method == "GET" else None)
    if form.validate_on_submit():
        sessions.update_session(get_db(), the_case, session, form.held_on.data,
                                form.duration_minutes.data, form.attendance.data)
        get_db().commit()
        flash(_("Saved."), "success")
        return redirect(url_for("cases.session", case_id=the_case.id, session_id=session.id))
    return render_template("cases/session_form.html", case=the_case, form=form,
                           session=session), 400 if form.errors else 200


def _render_session(the_case: Case, this_session: CounsellingSession,
                    question_form: QuestionForm, status: int = 200) -> ResponseReturnValue:
    db = get_db()
    return render_template(
        "cases/session.html", case=the_case, session=this_session,
        note=notes.note_for_session(db, this_session),
        agenda=questions.agenda_for(db, g.keyring, the_case, this_session),
        asked=questions.asked_in(db, g.keyring, the_case, this_session),
        question_form=question_form, move_form=MoveQuestionForm,
        allowed_moves=questions.allowed_moves,
        start_form=StartNoteForm(), last_note=notes.last_note_before(db, this_session),
    ), status


@bp.get("/cases/<case_id>/sessions/<session_id>")
def session(case_id: str, session_id: str) -> ResponseReturnValue:
    the_case, this_session = _case_and_session(case_id, session_id)
    return _render_session(the_case, this_session, QuestionForm())


# --- notes ------------------------------------------------------------------------------------


# What the note page says after a save. The outcome travels in the redirect's query string
# (?saved=draft&version=7) rather than as a flashed message: a flash is written into the
# signed cookie by the save and cleared from it by the next page, two cookie rewrites on the
# counsellor's most frequent write. The words name an outcome, never anything written in the
# note, and the message shows only while the note is still at the version that save made and
# in the state the word names (a reload after a later save, or a made-up link, says nothing).
SAVED_NOTICES = {
    "draft": (DRAFT, _l("Draft saved.")),
    "signed": (SIGNED, _l("Signed. The note is now locked; changes become amendments.")),
    "amended": (SIGNED, _l("Amendment saved. Earlier versions are kept.")),
}


def _saved_notice(note: Note) -> str | None:
    status, message = SAVED_NOTICES.get(request.args.get("saved", ""), (None, None))
    if status != note.status or request.args.get("version") != str(note.edit_version):
        return None
    return message


def _render_note(the_case: Case, session: CounsellingSession, note: Note, form, status: int = 200,
                 conflict: notes.Revision | None = None) -> ResponseReturnValue:
    return render_template(
        "cases/note.html", case=the_case, session=session, note=note, form=form,
        notice=_saved_notice(note) if status == 200 else None,
        sections=notes.TEMPLATES[note.template], conflict=conflict,
        revision_count=len(notes.revisions(get_db(), g.keyring, note)),
    ), status


@bp.post("/cases/<case_id>/sessions/<session_id>/note/start")
def start_note(case_id: str, session_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case, this_session = _case_and_session(case_id, session_id)
    form = StartNoteForm()
    if form.validate_on_submit() and notes.note_for_session(db, this_session) is None:
        last = notes.last_note_before(db, this_session) if form.from_last.data else None
        notes.start_note(db, g.keyring, this_session, form.template.data, from_last=last)
        db.commit()
    return redirect(url_for("cases.note", case_id=the_case.id, session_id=this_session.id))


def _case_session_and_note(case_id: str, session_id: str
                           ) -> tuple[Case, CounsellingSession, Note]:
    the_case, this_session, the_note = _case_session_note(case_id, session_id)
    if the_note is None:
        raise NotFound(session_id)
    return the_case, this_session, the_note


@bp.get("/cases/<case_id>/sessions/<session_id>/note")
def note(case_id: str, session_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case, this_session, the_note = _case_session_note(case_id, session_id)
    if the_note is None:
        return redirect(url_for("cases.session", case_id=the_case.id, session_id=session_id))
    current = notes.current_revision(db, g.keyring, the_note)
    audit_case(db, "note.viewed", the_case, "note", the_note.id)
    db.commit()
    form = note_sections_form(the_note.template, current.sections)
    form.edit_version.data = str(the_note.edit_version)
    return _render_note(the_case, this_session, the_note, form)


def _render_note_again(case_id: str, session_id: str, status: int, conflict: bool = False,
                       unticked: bool = False, no_reason: bool = False) -> ResponseReturnValue:
    """The note page again with what was sent, when a save did not go through: the form's own
    messages (lengths) and the reason the save was refused."""
    the_case, this_session, the_note = _case_session_and_note(case_id, session_id)
    form = note_sections_form(the_note.template)
    form.validate()
    if unticked:
        form.confirm_sign.errors.append(_("Please tick the box to sign."))
    if no_reason:
        form.reason.errors.append(_("Please say briefly why the signed note is changing."))
    if conflict:  # the text stays; the version is now the one saved meanwhile
        form.edit_version.data = str(the_note.edit_version)
    return _render_note(the_case, this_session, the_note, form, status, conflict=(
        notes.current_revision(get_db(), g.keyring, the_note) if conflict else None))


@bp.post("/cases/<case_id>/sessions/<session_id>/note")
def save_note(case_id: str, session_id: str) -> ResponseReturnValue:
    """Save a draft, sign it, or amend a signed note — the button pressed says which."""
    db = get_db()
    # The counsellor's most frequent write reads the note as plain values and the form by hand
    # (forms.PostedNote); only a page shown again loads the case, session, note and form.
    the_note = own_note_with_keys(db, g.keyring, case_id, session_id)
    posted = posted_note(request.form, the_note.template)
    try:
        if the_note.status == SIGNED:
            notes.amend(db, g.keyring, the_note, posted.sections, posted.reason,
                        posted.expected_version)
            event, outcome = "note.amended", "amended"
        elif posted.action == "sign":
            if not posted.confirm_sign:
                return _render_note_again(case_id, session_id, 400, unticked=True)
            notes.sign(db, g.keyring, the_note, posted.sections, posted.expected_version)
            event, outcome = "note.signed", "signed"
        else:
            notes.save_draft(db, g.keyring, the_note, posted.sections, posted.expected_version)
            event, outcome = "note.saved", "draft"
    except Conflict:
        db.rollback()
        return _render_note_again(case_id, session_id, 409, conflict=True)
    except InvalidChange as refused:
        db.rollback()
        return _render_note_again(case_id, session_id, 400, no_reason=str(refused) == "reason")
    except Locked:
        return redirect(url_for("cases.note", case_id=case_id, session_id=session_id))
    audit_case(db, event, the_note.case_id, "note", the_note.id)
    db.commit()
    # Back to the note page, whose address this form posts to: its path is known and its ids
    # were checked above, so it is reused rather than built again (url_for, ~40 µs a save).
    return redirect(f"{request.script_root}{request.path}?saved={outcome}"
                    f"&version={the_note.edit_version}")


@bp.get("/cases/<case_id>/sessions/<session_id>/note/versions")
def note_versions(case_id: str, session_id: str) -> ResponseReturnValue:
    the_case, this_session, the_note = _case_session_and_note(case_id, session_id)
    audit_case(get_db(), "note.viewed", the_case, "note", the_note.id)
    get_db().commit()
    return render_template("cases/note_versions.html", case=the_case, session=this_session,
                           note=the_note, sections=notes.TEMPLATES[the_note.template],
                           revisions=notes.revisions(get_db(), g.keyring, the_note))


# --- open questions ---------------------------------------------------------------------------


@bp.post("/cases/<case_id>/sessions/<session_id>/questions")
def ask_question(case_id: str, session_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case, this_session = _case_and_session(case_id, session_id)
    form = QuestionForm()
    if form.validate_on_submit():
        questions.ask(db, g.keyring, this_session, form.text.data)
        db.commit()
        flash(_("Question recorded. It stays on the agenda until resolved or parked."),
              "success")
        return redirect(url_for("cases.session", case_id=the_case.id,
                                session_id=this_session.id) + "#questions")
    return _render_session(the_case, this_session, form, 400)


@bp.get("/cases/<case_id>/questions")
def question_history(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    return render_template("cases/questions.html", case=the_case,
                           questions=questions.history(get_db(), g.keyring, the_case),
                           move_form=MoveQuestionForm, allowed_moves=questions.allowed_moves)


@bp.post("/cases/<case_id>/questions/<question_id>/move")
def move_question(case_id: str, question_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case = own_case(case_id)
    question = question_in_case(db, the_case, question_id)
    form = MoveQuestionForm()
    session = None
    if form.session_id.data:
        session = session_in_case(db, the_case, form.session_id.data)
    if form.validate_on_submit():
        try:
            questions.move(db, g.keyring, question, form.to_state.data, form.outcome.data or "",
                           session)
        except InvalidChange:
            flash(_("That question can't move to that state from where it is."), "error")
        else:
            db.commit()
            flash(_("Updated."), "success")
    else:
        flash(_("That didn't go through — please try again."), "error")
    if session is not None:
        return redirect(url_for("cases.session", case_id=the_case.id, session_id=session.id)
                        + "#questions")
    return redirect(url_for("cases.question_history", case_id=the_case.id))

