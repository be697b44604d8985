"""Running a pattern only where a match can start, with exactly `finditer`'s results.

Most structured identifiers, dates and ages start at a run of digits (or a character or two
before one), and most texts have few digits: trying such a pattern only there, instead of at
every character, finds the same matches for a fraction of the work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

ASCII_DIGITS = re.compile(r"[0-9]+")
DIGITS = re.compile(r"\d+")  # any Unicode digit
_OTHER_DIGIT = re.compile(r"[^\D0-9]")  # a digit that is not 0-9 (٣, ５ …)
_ASCII_DIGIT_CHARS = "0123456789"


class Digits:
    """Where a text's runs of digits start, and the longest run: of ASCII digits (for the
    patterns compiled with re.ASCII) and of any Unicode digits (for the others, whose \\d
    also matches ٣ or ５). Found once per text and shared by every detector."""

    __slots__ = ("_back", "ascii", "ascii_longest", "unicode", "unicode_longest")

    def __init__(self, text: str) -> None:
        # Most texts have no digit at all: ten substring tests say so fastest.
        runs = ([m.span() for m in ASCII_DIGITS.finditer(text)]
                if any(map(text.__contains__, _ASCII_DIGIT_CHARS)) else [])
        self.ascii = [start for start, _end in runs]
        self.ascii_longest = max((end - start for start, end in runs), default=0)
        if not text.isascii() and _OTHER_DIGIT.search(text):
            runs = [m.span() for m in DIGITS.finditer(text)]
        self.unicode = [start for start, _end in runs]
        self.unicode_longest = max((end - start for start, end in runs), default=0)
        self._back: dict[tuple[int, ...], list[int]] = {}

    def before(self, *offsets: int) -> list[int]:
        """before(self.ascii, *offsets), worked out once per text."""
        places = self._back.get(offsets)
        if places is None:
            places = self._back[offsets] = before(self.ascii, *offsets)
        return places


def before(starts: Iterable[int], *offsets: int) -> list[int]:
    """Each start moved back by each offset (0 = the start itself), in order, none below 0."""
    return sorted({start - offset for start in starts for offset in offsets
                   if start >= offset})


def matches_from(pattern: re.Pattern[str], text: str, starts: Iterable[int]
                 ) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, given that every match of `pattern` in `text` starts at one
    of `starts` (ascending): only those places are tried. A lookbehind or \\b still sees the
    text before each start, as it does in finditer."""
    end = 0
    for start in starts:
        if start < end:
            continue
        m = pattern.match(text, start)
        if m is not None:
            yield m
            end = m.end() if m.end() > start else start + 1
