"""Exports as the web pages and the CLI use them: build, review, check, audit, render."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session

from .. import audit
from ..keyring import Keyring
from ..models import Case
from . import formats, summary
from .anonymised import AnonymisedSummary, LeakCheck, anonymised_parts
from .document import IDENTIFIABLE, to_data

MAX_EXTRA_TERMS = 200
MAX_TERM_CHARS = 200


@dataclass(frozen=True)
class Decisions:
    """What the counsellor chose at review: flagged terms to keep, extra terms to hide."""

    keep: frozenset[str] = frozenset()
    extra_terms: tuple[str, ...] = ()


class LeakFound(Exception):
    """A listed name or a structured identifier survived: the export is blocked."""

    def __init__(self, leaks: list[str]) -> None:
        super().__init__(f"{len(leaks)} identifying term(s) survived")
        self.leaks = leaks


def parse_extra_terms(raw: str) -> tuple[str, ...]:
    terms: list[str] = []
    for line in re.split(r"[\n,;]", raw or ""):
        term = " ".join(line.split())[:MAX_TERM_CHARS]
        if len(term) >= 2 and term not in terms:
            terms.append(term)
    return tuple(terms[:MAX_EXTRA_TERMS])


def review(db: Session, keyring: Keyring, case: Case,
           decisions: Decisions = Decisions()) -> AnonymisedSummary:
    """The anonymised summary as the review page shows it."""
    return AnonymisedSummary(summary.build(db, keyring, case), decisions.keep,
                             decisions.extra_terms)


def anonymised_export(db: Session, keyring: Keyring, case: Case, fmt: str,
                      decisions: Decisions = Decisions(),
                      reviewed: AnonymisedSummary | None = None) -> bytes:
    """The reviewed, leak-checked supervision copy, audited. Raises LeakFound.

    `reviewed` is the review built with these decisions, when the page has one already;
    without it the case is read, anonymised, checked and written out one piece at a time."""
    font = current_app.config.get("EXPORT_PDF_FONT")
    if reviewed is not None:
        leaks = reviewed.leaks()
        if leaks:
            raise LeakFound(leaks)
        document = formats.render(reviewed.data, fmt, font)
    else:
        document = _streamed(db, keyring, case, fmt, decisions, font)
    audit.record(db, "export.anonymised", actor_id=keyring.user.id, object_type=f"case.{fmt}",
                 object_id=case.id, case_id=case.id)
    return document


def _streamed(db: Session, keyring: Keyring, case: Case, fmt: str, decisions: Decisions,
              font: str | None) -> bytes:
    case_summary = summary.build(db, keyring, case, stream=True)
    anonymiser, pieces = anonymised_parts(case_summary, decisions.keep, decisions.extra_terms)
    check = LeakCheck(anonymiser)
    try:
        document = formats.render_parts(check.passed(pieces), fmt, font)
    except formats.MissingFont:
        if check.found:  # as when checked before rendering: the leak is reported first
            raise LeakFound(check.found) from None
        raise
    if check.found:
        raise LeakFound(check.found)
    return document


def anonymised_document(db: Session, keyring: Keyring, case: Case, fmt: str) -> bytes:
    """The supervision copy with the review's default decisions (the benchmark measures it)."""
    return anonymised_export(db, keyring, case, fmt)


def identifiable_export(db: Session, keyring: Keyring, case: Case, fmt: str,
                        include_notes: bool) -> bytes:
    """The client's own copy: everything they wrote or were shown; notes only if chosen."""
    case_summary = summary.build(db, keyring, case, include_notes=include_notes)
    if not include_notes:
        # The people map and question outcomes are the counsellor's notes too.
        case_summary.people = []
        for question in case_summary.questions:
            for move in question.moves:
                move.outcome = ""
    data = to_data(case_summary, IDENTIFIABLE, lambda _where, text: text)
    data["includes_session_notes"] = include_notes
    document = formats.render(data, fmt, current_app.config.get("EXPORT_PDF_FONT"))
    audit.record(db, "export.identifiable", actor_id=keyring.user.id,
                 object_type=f"case.{fmt}", object_id=case.id, case_id=case.id)
    return document


def filename(case: Case, flavour: str, fmt: str) -> str:
    return f"{case.pseudonym}-{flavour}-summary.{fmt}"
