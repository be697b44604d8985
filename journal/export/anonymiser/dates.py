"""Calendar dates become weeks from intake; the date of birth and exact ages become bands.

Month names and weekdays on their own stay ("in March", "last Tuesday"): they carry
clinical meaning and do not identify. A day-level date does, so "3 March 2026" becomes
"[week 7]" (counted from the first session) or "[2 weeks before intake]".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from .lexicon import MONTHS
from .matching import Digits, matches_from
from .spans import AGE, DATE, Span

_MONTH = (r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
          r"Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_EN_DATES = [
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b(?!:)", re.IGNORECASE),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),
    re.compile(r"\b(?P<a>[0-3]?\d)[/.](?P<b>[01]?\d|[0-3]?\d)[/.](?P<year>(?:19|20)?\d\d)\b"),
]
_CN_DATE = re.compile(r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*)?(?P<month>1[0-2]|0?[1-9])\s*月\s*"
                      r"(?P<day>3[01]|[12]\d|0?[1-9])\s*[日号]")
_AGES = [
    re.compile(r"\b(?P<age>\d{1,3})(?:\s*|-)(?:years?|yrs?)(?:\s*|-)old\b", re.IGNORECASE),
    re.compile(r"\b(?P<age>\d{1,3})\s*(?:yo|y/o|y\.o\.)\b", re.IGNORECASE),
    re.compile(r"\b(?:aged?|age:)\s*(?P<age>\d{1,3})\b", re.IGNORECASE),
    re.compile(r"(?P<age>\d{1,3})\s*(?:周岁|岁)"),
    re.compile(r"\b(?:turned|turning|turns)\s+(?P<age>\d{1,3})\b", re.IGNORECASE),
]
# Where each age pattern can match: only at a run of digits, only in a text with this
# character in it, or anywhere ("").
_AT_DIGITS = "digits"
_AGES_START = (_AT_DIGITS, _AT_DIGITS, "", "岁", "")


def age_band(age: int) -> str:
    if age > 89:
        return "90+"
    low = age - age % 5
    return f"{low}–{low + 4}"


def _age_at(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def relative_label(when: date, intake: date | None) -> str:
    if intake is None:
        return "[a date]"
    days = (when - intake).days
    if days >= 0:
        return f"[week {days // 7 + 1}]"
    weeks = -days // 7
    if weeks == 0:
        return f"[{-days} days before intake]"
    return f"[{weeks} week{'s' if weeks != 1 else ''} before intake]"


def _guess_year(month: int, day: int, intake: date | None) -> int | None:
    """A date written without its year: the reading closest to the intake."""
    if intake is None:
        return None
    best = None
    for year in (intake.year - 1, intake.year, intake.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - intake).days) < abs((best - intake).days):
            best = candidate
    return best.year if best else None


def _make(year: int | None, month: int, day: int, intake: date | None) -> date | None:
    if year is None:
        year = _guess_year(month, day, intake)
        if year is None:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(text: str) -> int | None:
    return MONTHS.get(text.lower().rstrip("."))


def _en_dates(text: str, starts: list[int]
              ) -> Iterator[tuple[int, int, tuple[int | None, int, int] | None]]:
    for index, pattern in enumerate(_EN_DATES):
        # All but "March 3" start at a run of digits: only tried there.
        matches = pattern.finditer(text) if index == 1 else matches_from(pattern, text, starts)
        for m in matches:
            groups = m.groupdict()
            year = int(groups["year"]) if groups.get("year") else None
            if year is not None and year < 100:
                year += 2000
            if index < 2:
                month = _month_number(groups["month"])
                day = int(groups["day"])
                if month is None or not 1 <= day <= 31:
                    continue
                # "May 5" needs a capital M or a year: "may 5" is usually a verb.
                if groups["month"].lower() == "may" and not groups["month"][0].isupper():
                    continue
            elif index == 2:
                month, day = int(groups["month"]), int(groups["day"])
            else:
                a, b = int(groups["a"]), int(groups["b"])
                # Day first (UK, AU, IE, IN, ...) unless only the US reading is possible.
                day, month = (b, a) if b > 12 >= a else (a, b)
            yield m.start(), m.end(), None if not (1 <= month <= 12) else (year, month, day)


def find_dates(text: str, intake: date | None, born: date | None,
               digits: Digits | None = None) -> list[Span]:
    spans: list[Span] = []
    starts = (digits or Digits(text)).unicode
    if not starts:
        return spans  # every date pattern needs a digit: a day, a month or a year
    found: list[tuple[int, int, tuple[int | None, int, int] | None]] = []
    for start, end, parts in _en_dates(text, starts):
        found.append((start, end, parts))
    for m in _CN_DATE.finditer(text) if "月" in text else ():
        year = int(m.group("year")) if m.group("year") else None
        found.append((m.start(), m.end(), (year, int(m.group("month")), int(m.group("day")))))
    for start, end, parts in found:
        if parts is None:
            continue
        year, month, day = parts
        when = _make(year, month, day, intake)
        if when is None:
            continue
        if born and (when == born or (year is None and (month, day) == (born.month,
                                                                         born.day))):
            reference = intake or date.today()
            label = f"[age {age_band(_age_at(born, reference))}]"
            key = "dob"
        else:
            label = relative_label(when, intake)
            key = f"date:{when.isoformat()}"
        spans.append(Span(start, end, DATE, key, label))
    return spans


def find_ages(text: str, digits: Digits | None = None) -> list[Span]:
    spans: list[Span] = []
    starts = (digits or Digits(text)).unicode
    if not starts:
        return spans  # every age pattern needs the age in digits
    for pattern, where in zip(_AGES, _AGES_START, strict=True):
        if where == _AT_DIGITS:
            matches: Iterable[re.Match[str]] = matches_from(pattern, text, starts)
        elif where and where not in text:
            continue
        else:
            matches = pattern.finditer(text)
        for m in matches:
            age = int(m.group("age"))
            if age > 120:
                continue
            start, end = m.span("age")
            spans.append(Span(start, end, AGE, f"age:{age}", age_band(age)))
    return spans
