"""Find, label and replace: one Anonymiser per export, so one entity keeps one label."""

from __future__ import annotations

from dataclasses import dataclass

from . import dates, patterns, unlisted
from .facts import CaseFacts
from .known import KnownEntities
from .matching import Digits
from .spans import (
    CUSTOM,
    LISTED,
    ORGANISATION,
    PLACE,
    STRUCTURED,
    UNLISTED,
    Span,
    resolve,
)


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    original: str
    label: str
    category: str
    key: str
    flagged: bool
    applied: bool  # False when the counsellor chose to keep a flagged term


class _Pseudonyms:
    """Labels that keep clinical meaning: [Client], [Husband], [Person 2], [Place 1]."""

    def __init__(self, known: KnownEntities, facts: CaseFacts) -> None:
        self._labels: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        relations = [" ".join(p.relation.split()) for p in facts.people]
        for index, relation in enumerate(relations):
            key = f"person:{index}"
            if not relation or known.find(relation):
                continue  # no relation, or one that names someone: numbered below
            word = relation[0].upper() + relation[1:]
            if relations.count(relation) > 1:
                word = f"{word} {relations[:index + 1].count(relation)}"
            self._labels[key] = f"[{word}]"
        self._known = known

    def _next(self, noun: str) -> str:
        self._counters[noun] = self._counters.get(noun, 0) + 1
        return f"[{noun} {self._counters[noun]}]"

    def label(self, span: Span) -> str:
        if span.key in self._labels:
            return self._labels[span.key]
        if span.category == LISTED and span.key == "client":
            label = "[Client]"
        elif span.category in (LISTED, UNLISTED):
            label = self._surname_match(span.key) or self._next("Person")
        elif span.category == CUSTOM:
            label = self._next("Redacted")
        elif span.category == PLACE:
            label = self._next("Place")
        elif span.category == ORGANISATION:
            label = self._next("Employer" if span.label == "employer" else "Organisation")
        else:
            return span.label
        self._labels[span.key] = label
        return label

    def _surname_match(self, key: str) -> str | None:
        """老王 after 王建国: a lone Chinese surname takes the label of the full name."""
        name = key.partition(":")[2]
        if len(name) != 1 or not "\u3400" <= name <= "\u9fff":
            return None
        for other, label in self._labels.items():
            other_name = other.partition(":")[2]
            if other.startswith(f"{UNLISTED}:") and len(other_name) > 1 and \
                    other_name.startswith(name):
                return label
        return None


class Anonymiser:
    """Everything one export needs: the case's facts, its matchers, its labels."""

    def __init__(self, facts: CaseFacts) -> None:
        self.facts = facts
        self.known = KnownEntities(facts)
        self._pseudonyms = _Pseudonyms(self.known, facts)
        # Remembered for this export only (one Anonymiser), never across exports.
        self._memo = unlisted.Memo()
        self._short_leaks: dict[str, list[str]] = {}

    def person_label(self, index: int) -> str:
        """The label of the index-th listed person ("[Wife]", or "[Person 3]")."""
        return self._pseudonyms.label(Span(0, 0, LISTED, f"person:{index}"))

    def scan(self, text: str) -> list[Span]:
        """Every identifier found in `text`, non-overlapping, in text order."""
        if not text:
            return []
        digits = Digits(text)
        candidates = [
            *patterns.find_structured(text, digits),
            *self.known.find(text),
            *dates.find_dates(text, self.facts.first_session, self.facts.date_of_birth, digits),
            *dates.find_ages(text, digits),
        ]
        found = resolve(candidates)
        covered = _mask(len(text), found)
        leftovers = [s for s in patterns.leftover_numbers(text, digits)
                     if not covered[s.start:s.end].count(1)]
        found += resolve(leftovers)
        covered = _mask(len(text), found)
        guesses = [s for s in unlisted.find_unlisted(text, covered, self._memo)
                   if not covered[s.start:s.end].count(1)]
        return sorted(found + resolve(guesses), key=lambda s: s.start)

    def apply(self, text: str, spans: list[Span],
              keep: frozenset[str] = frozenset()) -> tuple[str, list[Replacement]]:
        """Replace `spans` in `text`; flagged spans whose key is in `keep` stay as written."""
        pieces: list[str] = []
        replacements: list[Replacement] = []
        position = 0
        for span in spans:
            label = self._pseudonyms.label(span)
            applied = not (span.flagged and span.key in keep)
            original = text[span.start:span.end]
            replacements.append(Replacement(span.start, span.end, original, label,
                                            span.category, span.key, span.flagged, applied))
            pieces.append(text[position:span.start])
            pieces.append(label if applied else original)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces), replacements

    def anonymise(self, text: str,
                  keep: frozenset[str] = frozenset()) -> tuple[str, list[Replacement]]:
        return self.apply(text, self.scan(text), keep)

    def leaks(self, text: str) -> list[str]:
        """Listed names, their variants, added terms or structured ids still in `text`."""
        # Short strings repeat through a document (section titles, states, labels): check
        # each once per export.
        short = len(text) <= _SHORT
        if short and text in self._short_leaks:
            return list(self._short_leaks[text])
        found = self.known.leaks(text)
        found += [text[s.start:s.end] for s in patterns.find_structured(text)
                  if s.category == STRUCTURED]
        if short:
            self._short_leaks[text] = list(found)
        return found


_SHORT = 80  # characters: leak-check results of strings up to this long are remembered


def _mask(length: int, spans: list[Span]) -> bytearray:
    covered = bytearray(length)
    for span in spans:
        covered[span.start:span.end] = b"\x01" * span.length
    return covered


def anonymise_texts(facts: CaseFacts, texts: list[str]) -> tuple[list[str], list[str]]:
    """The batch command's contract: texts in the same order, and the originals flagged."""
    anonymiser = Anonymiser(facts)
    out: list[str] = []
    flagged: list[str] = []
    for text in texts:
        result, replacements = anonymiser.anonymise(text)
        out.append(result)
        for replacement in replacements:
            if replacement.flagged and replacement.original not in flagged:
                flagged.append(replacement.original)
    return out, flagged
