"""Export pages, on the counsellor's blueprint: choose, review, download."""

from __future__ import annotations

from flask import Response, g, render_template, request
from flask.typing import ResponseReturnValue

from ..cases.routes import bp, own_case
from ..db import get_db
from . import formats, service
from .anonymised import pieces
from .forms import ClientCopyForm, ReviewForm


def _download(document: bytes, name: str, fmt: str) -> Response:
    response = Response(document, mimetype=formats.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/cases/<case_id>/export")
def export_start(case_id: str) -> ResponseReturnValue:
    return render_template("export/start.html", case=own_case(case_id),
                           client_form=ClientCopyForm())


def _decisions(form: ReviewForm, flagged_keys: set[str]) -> service.Decisions:
    hidden = set(request.form.getlist("hide"))
    return service.Decisions(keep=frozenset(flagged_keys - hidden),
                             extra_terms=service.parse_extra_terms(form.extra_terms.data or ""))


@bp.route("/cases/<case_id>/export/review", methods=["GET", "POST"])
def export_review(case_id: str) -> ResponseReturnValue:
    db = get_db()
    case = own_case(case_id)
    form = ReviewForm()
    problem, leaks, status = None, [], 200
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 400
        result = service.review(db, g.keyring, case)
    else:
        # Decisions apply to the terms the counsellor saw: flagged ones found with the added
        # terms in place (keys are stable for the same text and terms). One pass finds them;
        # the choices to keep some are then applied to what it found.
        result = service.review(db, g.keyring, case, service.Decisions(
            extra_terms=service.parse_extra_terms(form.extra_terms.data or "")))
        decisions = _decisions(form, {t.key for t in result.terms() if t.flagged})
        result.keeping(decisions.keep)
        if request.form.get("action") == "export":
            if not (form.checked_job.data and form.checked_place.data
                    and form.checked_event.data):
                problem, status = "checklist", 400
            else:
                try:
                    document = service.anonymised_export(db, g.keyring, case,
                                                         form.format.data, decisions,
                                                         reviewed=result)
                except service.LeakFound as exc:
                    problem, leaks, status = "leak", exc.leaks, 422
                except formats.MissingFont:
                    problem, status = "font", 422
                else:
                    db.commit()
                    return _download(document, service.filename(
                        case, "anonymised", form.format.data), form.format.data)
    return render_template(
        "export/review.html", case=case, form=form, terms=result.terms(),
        passages=[(p.where, *pieces(p)) for p in result.passages], problem=problem,
        leaks=leaks), status


@bp.post("/cases/<case_id>/export/client-copy")
def export_client_copy(case_id: str) -> ResponseReturnValue:
    db = get_db()
    case = own_case(case_id)
    form = ClientCopyForm()
    if not form.validate_on_submit():
        return render_template("export/start.html", case=case, client_form=form), 400
    try:
        document = service.identifiable_export(db, g.keyring, case, form.format.data,
                                               form.include_notes.data)
    except formats.MissingFont:
        return render_template("export/start.html", case=case, client_form=form,
                               problem="font"), 422
    db.commit()
    return _download(document, service.filename(case, "client-copy", form.format.data),
                     form.format.data)

