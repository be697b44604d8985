"""The supervision copy: every text of a summary through one Anonymiser, in document order.

Two ways to build it from the same pieces (document.parts), with the same result:

- `AnonymisedSummary`, for the review page: keeps every passage (original, result, what was
  replaced) for the side-by-side view. The counsellor's choices of flagged terms to keep are
  re-applied to the passages found (`keeping()`), without finding them again; the terms to
  add change what is found, so they make a new one.
- `anonymised_parts()`, for writing a file straight away: each text is anonymised when the
  document reaches it and nothing is kept once it has been handed on, so a long case never
  holds all its plaintext (or all its replacements) at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .anonymiser import Anonymiser, CaseFacts, ListedPerson, Replacement
from .anonymiser.spans import Span
from .document import ANONYMISED, Part, parts, strings_of, to_data
from .summary import CaseSummary


@dataclass
class Passage:
    where: str
    original: str
    result: str
    replacements: list[Replacement]
    spans: list[Span] = field(default_factory=list, repr=False)


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


def _people_labels(anonymiser: Anonymiser, summary: CaseSummary) -> list[str]:
    return [anonymiser.person_label(i) for i in range(len(summary.people))]


class LeakCheck:
    """The leak check over the finished document's strings, piece by piece: listed names,
    their variants, added terms and structured ids still present, each listed once."""

    def __init__(self, anonymiser: Anonymiser) -> None:
        self._anonymiser = anonymiser
        self.found: list[str] = []

    def check(self, value: Any) -> None:
        for text in strings_of(value):
            for leak in self._anonymiser.leaks(text):
                if leak not in self.found:
                    self.found.append(leak)

    def passed(self, pieces: Iterable[Part]) -> Iterator[Part]:
        """The pieces, each checked first; after a leak none is passed on, but every piece
        is still checked so the counsellor sees everything that leaked."""
        for piece in pieces:
            self.check(piece[1])
            if not self.found:
                yield piece


def anonymised_parts(summary: CaseSummary, keep: frozenset[str] = frozenset(),
                     extra_terms: tuple[str, ...] = ()) -> tuple[Anonymiser, Iterator[Part]]:
    """The supervision copy piece by piece, with the Anonymiser doing it (for LeakCheck)."""
    anonymiser = Anonymiser(facts_for(summary, extra_terms))

    def text_of(_where: str, text: str) -> str:
        return anonymiser.anonymise(text, keep)[0]

    return anonymiser, parts(summary, ANONYMISED, text_of, _people_labels(anonymiser, summary))


class AnonymisedSummary:
    def __init__(self, summary: CaseSummary, keep: frozenset[str] = frozenset(),
                 extra_terms: tuple[str, ...] = ()) -> None:
        self.summary = summary
        self.anonymiser = Anonymiser(facts_for(summary, extra_terms))
        self.passages: list[Passage] = []
        self._keep = keep
        self._replay: Iterator[Passage] | None = None
        self._people_labels = _people_labels(self.anonymiser, summary)
        self.data: dict[str, Any] = to_data(summary, ANONYMISED, self._text_of,
                                            self._people_labels)

    def _text_of(self, where: str, text: str) -> str:
        if self._replay is not None:
            passage = next(self._replay)
            passage.result, passage.replacements = self.anonymiser.apply(
                text, passage.spans, self._keep)
            return passage.result
        spans = self.anonymiser.scan(text)
        result, replacements = self.anonymiser.apply(text, spans, self._keep)
        self.passages.append(Passage(where, text, result, replacements, spans))
        return result

    def keeping(self, keep: frozenset[str]) -> AnonymisedSummary:
        """The same summary with these flagged terms kept instead: what was found is applied
        again (labels are fixed by the first pass, so they stay the same)."""
        if keep != self._keep:
            self._keep = keep
            self._replay = iter(self.passages)
            try:
                self.data = to_data(self.summary, ANONYMISED, self._text_of,
                                    self._people_labels)
            finally:
                self._replay = None
        return self

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
        check = LeakCheck(self.anonymiser)
        check.check(self.data)
        return check.found


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
