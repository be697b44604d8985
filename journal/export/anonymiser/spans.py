"""A found identifier: where it is, what it is, and whether a person should look at it."""

from __future__ import annotations

from dataclasses import dataclass

# Categories, used in the review page, the evaluation report and the leak check.
LISTED = "listed"  # the client or someone on the people list
CONTACT = "contact"
STRUCTURED = "structured"  # emails, phones, ids, cards, addresses, handles, postcodes
DATE = "date"
AGE = "age"
UNLISTED = "unlisted_name"
PLACE = "place"
ORGANISATION = "organisation"
CUSTOM = "custom"  # a term the counsellor added at review

# Higher wins when two candidates cover the same characters with the same length.
PRIORITY = {CUSTOM: 9, STRUCTURED: 8, CONTACT: 8, LISTED: 7, DATE: 6, AGE: 5,
            ORGANISATION: 3, PLACE: 2, UNLISTED: 1}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    category: str
    # The entity this span belongs to: spans with one key share one label.
    key: str
    # A label already fixed by the detector ("[Email]", "[week 6]"), else the pseudonym
    # registry decides from category and key.
    label: str = ""
    # Unsure: shown pre-ticked at review, listed in `flagged` by the batch command.
    flagged: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start


def resolve(candidates: list[Span]) -> list[Span]:
    """Keep the longest candidates that do not overlap (ties: higher priority), in text order."""
    order = sorted(candidates, key=lambda s: (-s.length, -PRIORITY[s.category], s.start))
    taken: list[Span] = []
    if any(span.start >= span.end for span in order):
        # An empty span overlaps only what strictly contains it: compare with each taken one.
        occupied: list[tuple[int, int]] = []
        for span in order:
            if any(span.start < end and start < span.end for start, end in occupied):
                continue
            taken.append(span)
            occupied.append((span.start, span.end))
    else:
        # One byte per character, so a long text with many candidates stays linear.
        covered = bytearray(max((span.end for span in order), default=0))
        for span in order:
            if covered.find(1, span.start, span.end) >= 0:
                continue
            taken.append(span)
            covered[span.start:span.end] = b"\x01" * (span.end - span.start)
    return sorted(taken, key=lambda s: s.start)

