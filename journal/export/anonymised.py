"""The supervision copy: every text of a summary through one Anonymiser, in document order.

Built twice per review round trip (preview, then export) from the counsellor's decisions:
which flagged terms to keep, and which extra terms to hide. Same input, same output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .anonymiser import Anonymiser, CaseFacts, ListedPerson, Replacement
from .document import ANONYMISED, strings_of, to_data
from .summary import CaseSummary


@dataclass
class Passage:
    where: str
    original: str
    result: str
    replacements: list[Replacement]


@dataclass
class Term:
    """One entity as the review page lists it."""

    key: str
    label: str
    category: str
    flagged: bool
    applied: bool
    originals: list[str]
    count: int


def facts_for(summary: CaseSummary, extra_terms: tuple[str, ...] = ()) -> CaseFacts:
    profile = summary.profile
    try:
        born = date.fromisoformat(profile.date_of_birth) if profile.date_of_birth else None
    except ValueError:
        born = None
    contacts = tuple(part.strip() for part in profile.contact.replace(",", "\n").splitlines()
                     if part.strip())
    return CaseFacts(
        client_name=profile.name, preferred_name=profile.preferred_name,
        aliases=tuple(profile.alias_list), date_of_birth=born, contacts=contacts,
        people=tuple(ListedPerson(name, relation) for name, relation in summary.people),
        first_session=summary.intake, extra_terms=extra_terms)


class AnonymisedSummary:
    def __init__(self, summary: CaseSummary, keep: frozenset[str] = frozenset(),
                 extra_terms: tuple[str, ...] = ()) -> None:
        self.summary = summary
        self.anonymiser = Anonymiser(facts_for(summary, extra_terms))
        self.passages: list[Passage] = []
        self._keep = keep
        people_labels = [self.anonymiser.person_label(i) for i in range(len(summary.people))]
        self.data: dict[str, Any] = to_data(summary, ANONYMISED, self._text_of, people_labels)

    def _text_of(self, where: str, text: str) -> str:
        result, replacements = self.anonymiser.anonymise(text, self._keep)
        self.passages.append(Passage(where, text, result, replacements))
        return result

    def terms(self) -> list[Term]:
        """Every replaced (or kept) entity, flagged first, then by how often it occurs."""
        by_key: dict[str, Term] = {}
        for passage in self.passages:
            for r in passage.replacements:
                term = by_key.get(r.key)
                if term is None:
                    term = by_key[r.key] = Term(r.key, r.label, r.category, r.flagged,
                                                r.applied, [], 0)
                term.count += 1
                if r.original not in term.originals and len(term.originals) < 5:
                    term.originals.append(r.original)
        return sorted(by_key.values(), key=lambda t: (not t.flagged, -t.count, t.label))

    def leaks(self) -> list[str]:
        """Listed names, their variants or structured ids left anywhere in the export."""
        found: list[str] = []
        for text in strings_of(self.data):
            for leak in self.anonymiser.leaks(text):
                if leak not in found:
                    found.append(leak)
        return found


def pieces(passage: Passage) -> tuple[list[tuple[str, Replacement | None]],
                                      list[tuple[str, Replacement | None]]]:
    """The passage before and after, cut at each replacement, for side-by-side highlighting."""
    before: list[tuple[str, Replacement | None]] = []
    after: list[tuple[str, Replacement | None]] = []
    position = 0
    for r in passage.replacements:
        if r.start > position:
            plain = passage.original[position:r.start]
            before.append((plain, None))
            after.append((plain, None))
        before.append((r.original, r))
        after.append((r.label if r.applied else r.original, r))
        position = r.end
    if position < len(passage.original):
        rest = passage.original[position:]
        before.append((rest, None))
        after.append((rest, None))
    return before, after
