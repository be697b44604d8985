"""Counsellor side: dashboard, cases, people. Sessions, notes and questions: session_routes.py."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import audit
from ..auth.forms import ActionForm
from ..db import get_db
from ..models import Case
from ..paging import page_arg
from ..portal import invitations
from ..portal import reflections as reflections_service
from . import people, questions, sessions, timeline
from . import service as cases
from .errors import InvalidChange
from .forms import ClientForm, EraseForm, PersonForm
from .permissions import own_case_with_keys, person_in_case

bp = Blueprint("cases", __name__)


@bp.before_request
def counsellors_only() -> ResponseReturnValue | None:
    """Clients never reach a counsellor URL: to them it does not exist."""
    signed_in = g.get("signed_in")
    if signed_in is not None and not signed_in.user.is_counsellor:
        if request.endpoint == "cases.dashboard":
            return redirect(url_for("portal.home"))
        abort(404)
    return None


def own_case(case_id: str) -> Case:
    """The signed-in counsellor's case, or 404."""
    return own_case_with_keys(get_db(), g.keyring, case_id)


def audit_case(db: Session, action: str, case: Case | str, object_type: str = "case",
               object_id: str | None = None) -> None:
    """Record what the signed-in user did in this case, given as itself or its id (ids and an
    action code only)."""
    case_id = case if isinstance(case, str) else case.id
    audit.record(db, action, actor_id=g.keyring.user.id, object_type=object_type,
                 object_id=object_id or case_id, case_id=case_id)


def profile_from(form: ClientForm) -> cases.ClientProfile:
    return cases.ClientProfile(
        name=" ".join(form.name.data.split()),
        preferred_name=" ".join((form.preferred_name.data or "").split()),
        aliases=", ".join(a.strip() for a in (form.aliases.data or "").split(",") if a.strip()),
        date_of_birth=form.date_of_birth.data.isoformat() if form.date_of_birth.data else "",
        contact=(form.contact.data or "").strip(),
    )


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    show_closed = request.args.get("closed") == "1"
    page = cases.dashboard(get_db(), g.keyring, page_arg(), show_closed)
    return render_template("cases/dashboard.html", page=page, show_closed=show_closed,
                           today=date.today())


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case() -> ResponseReturnValue:
    form = ClientForm()
    if form.validate_on_submit():
        db = get_db()
        case = cases.create_case(db, g.keyring, profile_from(form))
        audit_case(db, "case.created", case)
        db.commit()
        flash(_("Case %(p)s is ready. Everything you write here is encrypted.",
                p=case.pseudonym), "success")
        return redirect(url_for("cases.case", case_id=case.id))
    return render_template("cases/new.html", form=form), 400 if form.errors else 200


@bp.get("/cases/<case_id>")
def case(case_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case = own_case(case_id)
    page = page_arg()
    entries, has_more = sessions.timeline(db, the_case, page)
    first_page, last_page = page == 1, not has_more
    since, before = sessions.reflection_window(entries, first_page, last_page)
    shared = (reflections_service.shared_entries(db, the_case, since, before, with_content=False)
              if entries or first_page else [])
    return render_template(
        "cases/case.html", case=the_case, profile=cases.profile_of(g.keyring, the_case),
        timeline=timeline.lines(the_case.id,
                                sessions.interleave(entries, shared, first_page, last_page)),
        has_more=has_more, page=page,
        invitation=invitations.pending(db, the_case),
        open_questions=questions.still_open(db, g.keyring, the_case),
        people=people.people_of(db, g.keyring, the_case), action_form=ActionForm(),
    )


@bp.route("/cases/<case_id>/profile", methods=["GET", "POST"])
def edit_profile(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    form = ClientForm()
    if request.method == "GET":
        profile = cases.profile_of(g.keyring, the_case)
        form.name.data, form.preferred_name.data = profile.name, profile.preferred_name
        form.contact.data, form.aliases.data = profile.contact, profile.aliases
        form.date_of_birth.data = (date.fromisoformat(profile.date_of_birth)
                                   if profile.date_of_birth else None)
    elif form.validate_on_submit():
        db = get_db()
        cases.update_profile(db, g.keyring, the_case, profile_from(form))
        db.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("cases.case", case_id=the_case.id))
    return render_template("cases/profile.html", case=the_case, form=form), (
        400 if form.errors else 200)


@bp.post("/cases/<case_id>/close")
def close_case(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    if ActionForm().validate_on_submit():
        cases.close_case(the_case)
        audit_case(get_db(), "case.closed", the_case)
        get_db().commit()
        flash(_("Case closed. You can find it under “show closed cases”."), "info")
    return redirect(url_for("cases.case", case_id=the_case.id))


@bp.post("/cases/<case_id>/reopen")
def reopen_case(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    if ActionForm().validate_on_submit():
        cases.reopen_case(the_case)
        audit_case(get_db(), "case.reopened", the_case)
        get_db().commit()
        flash(_("Case reopened."), "success")
    return redirect(url_for("cases.case", case_id=the_case.id))


@bp.route("/cases/<case_id>/erase", methods=["GET", "POST"])
def erase_case(case_id: str) -> ResponseReturnValue:
    the_case = own_case(case_id)
    form = EraseForm()
    if form.validate_on_submit():
        if form.pseudonym.data.strip().upper() != the_case.pseudonym:
            form.pseudonym.errors.append(_("That is not this case's pseudonym."))
        else:
            db = get_db()
            audit_case(db, "case.erased", the_case)
            cases.erase_case(db, the_case)
            db.commit()
            flash(_("The case was erased. Its keys are gone, so nothing of it can be read "
                    "again."), "info")
            return redirect(url_for("cases.dashboard"))
    return render_template("cases/erase.html", case=the_case, form=form), (
        400 if form.errors else 200)


@bp.route("/cases/<case_id>/people", methods=["GET", "POST"])
def people_page(case_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case = own_case(case_id)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            people.add_person(db, g.keyring, the_case, form.name.data, form.relation.data or "")
        except InvalidChange:
            form.name.errors.append(_("Please give a name of up to 200 characters."))
        else:
            db.commit()
            flash(_("Added."), "success")
            return redirect(url_for("cases.people_page", case_id=the_case.id))
    return render_template("cases/people.html", case=the_case, form=form,
                           people=people.people_of(db, g.keyring, the_case),
                           action_form=ActionForm()), 400 if form.errors else 200


@bp.route("/cases/<case_id>/people/<person_id>", methods=["GET", "POST"])
def edit_person(case_id: str, person_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case = own_case(case_id)
    person = person_in_case(db, the_case, person_id)
    form = PersonForm()
    if request.method == "GET":
        view = next(p for p in people.people_of(db, g.keyring, the_case)
                    if p.person.id == person.id)
        form.name.data, form.relation.data = view.name, view.relation
    elif form.validate_on_submit():
        try:
            people.update_person(g.keyring, person, form.name.data, form.relation.data or "")
        except InvalidChange:
            form.name.errors.append(_("Please give a name of up to 200 characters."))
        else:
            db.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("cases.people_page", case_id=the_case.id))
    return render_template("cases/person_edit.html", case=the_case, person=person,
                           form=form), 400 if form.errors else 200


@bp.post("/cases/<case_id>/people/<person_id>/remove")
def remove_person(case_id: str, person_id: str) -> ResponseReturnValue:
    db = get_db()
    the_case = own_case(case_id)
    person = person_in_case(db, the_case, person_id)
    if ActionForm().validate_on_submit():
        people.remove_person(db, person)
        db.commit()
        flash(_("Removed."), "info")
    return redirect(url_for("cases.people_page", case_id=the_case.id))


from . import client_routes, search_routes, session_routes  # noqa: E402,F401 - views on bp
