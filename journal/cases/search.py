"""Search across a counsellor's session notes and shared reflections, decrypted in memory.

There is no index, and there must never be one: every word of a note is clinical text, and a
table of words (or of their hashes) would be exactly the readable copy that DESIGN 3 forbids.
So a search reads the latest text of every note and shared reflection in the counsellor's
cases, opens it with the case keys this request unwraps, and tests it in memory. The cost is
at most five SQL statements however many cases there are, one key unwrap per case that has
text, and one AES-GCM open per note or reflection (one cipher per case, crypto.FieldCipher);
nothing of the query or the text is kept, and decrypted texts live one batch at a time.

Matching is `all(word in text.casefold() for word in query words)`. `_Matcher` gets the same
answer faster: on the UTF-8 bytes, without decoding or folding (folding a non-ASCII text costs
~6 µs per KiB, nearly as much as opening it), on the decrypted JSON without parsing it, and
over a batch of texts at once; test_search.py checks these shortcuts against that plain
definition.
"""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from itertools import accumulate, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Result, and_, event, select
from sqlalchemy.orm import Session

from .. import crypto
from ..keyring import Keyring
from ..models import (
    PRIVATE,
    SHARED,
    SHARED_SCOPE,
    Case,
    CounsellingSession,
    DirectoryEntry,
    Note,
    NoteRevision,
    Reflection,
    ReflectionVersion,
    SignedInUser,
    User,
)
from ..portal.reflections import PROMPTS, ReflectionContent
from .errors import InvalidChange, NotFound
from .notes import TEMPLATES
from .sealing import unseal

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160
_LEAD_CHARS = 50  # context shown before the first match
_PLACES_BY_ID = 500  # up to this many matched notes, their sessions are looked up by id
_BATCH = 64  # decrypted texts tested together: ~128 KiB, which stays in the CPU cache
NOTE = "note"
REFLECTION = "reflection"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SnippetPiece:
    """A run of a snippet's text; `match` runs are the ones to highlight. Never HTML."""

    text: str
    match: bool = False


@dataclass
class SearchHit:
    """One note or shared reflection in which every word of the query occurs."""

    kind: str  # NOTE | REFLECTION
    case_id: str
    pseudonym: str
    display_name: str
    case_closed: bool
    on: date  # the session's date, or the day the reflection was shared
    session_number: int | None  # None for a reflection
    state: str  # a note revision's kind (draft | signed | amendment), or "shared"
    snippet: list[SnippetPiece]
    endpoint: str  # where the hit is read: url_for(endpoint, **link_args)
    link_args: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResults:
    """The newest `limit` hits and how many matched in all."""

    hits: list[SearchHit]
    total: int
    searched: int  # how many notes and reflections were read

    @property
    def has_more(self) -> bool:
        return self.total > len(self.hits)


# One note's latest revision or one reflection's latest shared version that matched, before
# it is opened again for its snippet:
# (row id, case id, sealed content, kind, date, session number or 0, state, link id)
_Item = tuple[str, str, bytes, str, date, int, str, str]


def query_terms(query: str) -> list[str]:
    """The casefolded words of a query, each to be found; InvalidChange if too short or long."""
    text = (query or "").strip()
    if not MIN_QUERY_CHARS <= len(text) <= MAX_QUERY_CHARS:
        raise InvalidChange("query")
    # Browsers send composed (NFC) text, and notes are typed the same way.
    return list(dict.fromkeys(unicodedata.normalize("NFC", text).casefold().split()))


def search_casework(db: Session, keyring: Keyring, counsellor: User | SignedInUser, query: str,
                    limit: int = 50) -> SearchResults:
    """Every note (its latest revision) and shared reflection (its latest shared version) of
    this counsellor's open and closed cases that holds every word of the query, newest first;
    snippets for the first `limit` only. At most five statements, whatever the caseload."""
    if not counsellor.is_counsellor or keyring.user.id != counsellor.id:
        raise NotFound(counsellor.id)
    matcher = _Matcher(query_terms(query))
    limit = max(1, limit)
    me = counsellor.id
    # Plain Core statements over the tables' columns: tuples, no ORM entities or identity map
    # for thousands of rows that are only read once.
    case, entry = Case.__table__, DirectoryEntry.__table__
    cases = {
        case_id: (pseudonym, status, entry_id, name_sealed)
        for case_id, pseudonym, status, entry_id, name_sealed in db.execute(
            select(case.c.id, case.c.pseudonym, case.c.status, entry.c.id, entry.c.name_sealed)
            .join(entry, entry.c.case_id == case.c.id)
            .where(case.c.counsellor_id == me, entry.c.counsellor_id == me))
    }
    if not cases:
        return SearchResults([], 0, 0)
    mine = select(case.c.id).where(case.c.counsellor_id == me).scalar_subquery()
    with _binary_rows(db):
        keyring.load_case_wraps((PRIVATE, SHARED))
        revisions = _latest_revisions(db, mine)
        reflections = _shared_reflections(db, mine)
    ciphers = _Ciphers(keyring)
    matched_notes = _matching(revisions, NOTE, cases, ciphers, matcher)
    matched = _matching(reflections, REFLECTION, cases, ciphers, matcher)
    total = len(matched_notes) + len(matched)
    if matched_notes:
        matched.extend(_newest_notes(db, mine, matched_notes, limit))
    newest = heapq.nlargest(limit, matched, key=lambda item: (item[4], item[5], item[0]))

    hits: list[SearchHit] = []
    names: dict[str, str] = {}
    for row_id, case_id, sealed, kind, on, number, state, link_id in newest:
        pseudonym, status, entry_id, name_sealed = cases[case_id]
        if case_id not in names:
            names[case_id] = json.loads(unseal(keyring.directory_key(), name_sealed,
                                               "directory_entries", entry_id, "name",
                                               case_id))["display"]
        texts = _texts(kind, ciphers.cipher(kind, case_id).open(sealed, row_id))
        hits.append(SearchHit(
            kind=kind, case_id=case_id, pseudonym=pseudonym, display_name=names[case_id],
            case_closed=status == "closed", on=on, session_number=number or None,
            state=state, snippet=snippet(texts, matcher.terms),
            endpoint="cases.note" if kind == NOTE else "cases.reflection",
            link_args=({"case_id": case_id, "session_id": link_id} if kind == NOTE
                       else {"case_id": case_id, "reflection_id": link_id}),
        ))
    return SearchResults(hits, total, len(revisions) + len(reflections))


@contextmanager
def _binary_rows(db: Session) -> Iterator[None]:
    """On PostgreSQL, rows of the statements run inside come in binary format: a sealed field
    then crosses the socket as its bytes, not as hex text twice as long that psycopg decodes
    (about half the CPU of reading 15,000 notes). Anywhere else nothing changes."""
    connection = db.connection()
    if connection.dialect.driver != "psycopg":
        yield
        return
    from psycopg.pq import Format

    def binary(_connection: Any, cursor: Any, *_args: Any) -> None:
        cursor.format = Format.BINARY  # psycopg makes a new cursor for every statement

    event.listen(connection, "before_cursor_execute", binary)
    try:
        yield
    finally:
        event.remove(connection, "before_cursor_execute", binary)


def _latest_revisions(db: Session, mine: Any) -> list[Any]:
    """(id, case id, sealed content, note id, kind, number) of every note's latest revision.

    Every revision is read and the latest kept here: asking the database for the latest costs
    it a probe per row (a third of the statement on PostgreSQL), and a note has more than one
    revision only once it has been amended."""
    revision = NoteRevision.__table__
    return _latest(db.execute(
        select(revision.c.id, revision.c.case_id, revision.c.content_sealed,
               revision.c.note_id, revision.c.kind, revision.c.number)
        .where(revision.c.case_id.in_(mine))
    ), of=3, number=5)


def _shared_reflections(db: Session, mine: Any) -> list[_Item]:
    """The latest shared version of every shared reflection (never a client's draft)."""
    version, reflection = ReflectionVersion.__table__, Reflection.__table__
    rows = _latest(db.execute(
        select(version.c.id, version.c.case_id, version.c.content_sealed, version.c.shared_at,
               reflection.c.shared_at, reflection.c.id, version.c.number)
        .join(reflection, and_(reflection.c.id == version.c.reflection_id,
                               reflection.c.case_id == version.c.case_id))
        .where(version.c.case_id.in_(mine), reflection.c.status == "shared",
               version.c.scope == SHARED_SCOPE)
    ), of=5, number=6)
    return [(row_id, case_id, sealed, REFLECTION,
             shared_at.date() if (shared_at := version_shared or first_shared) else date.min,
             0, "shared", reflection_id)
            for row_id, case_id, sealed, version_shared, first_shared, reflection_id, _n in rows]


def _latest(result: Result[Any], of: int, number: int) -> list[tuple[Any, ...]]:
    """For each distinct row[of], the row with the highest row[number], in the order the
    first of each came (rows come grouped by case, and stay so).

    Rows become plain tuples as they are fetched, _BATCH at a time: thousands of Row
    objects held through the search would reach the collector's oldest generation and set off
    a full collection (tens of milliseconds) every few searches, while tuples of strings and
    bytes leave the collector's view at its first pass."""
    latest: dict[Any, tuple[Any, ...]] = {}
    for chunk in result.partitions(_BATCH):
        for row in map(tuple, chunk):
            kept = latest.setdefault(row[of], row)
            if row[number] > kept[number]:
                latest[row[of]] = row
    return list(latest.values())


def _matching(rows: list[Any], kind: str, cases: Container[str], ciphers: _Ciphers,
              matcher: _Matcher) -> list[Any]:
    """The rows (row id, case id, sealed content, ...) of the counsellor's cases whose
    decrypted text holds every word. Rows come grouped by case, and each group is opened with
    one cipher; texts are tested _BATCH at a time and then dropped."""
    found: list[Any] = []
    for case_id, group in groupby(rows, key=itemgetter(1)):
        if case_id not in cases:
            continue
        open_utf8 = ciphers.cipher(kind, case_id).open_utf8
        group_rows = list(group)
        for start in range(0, len(group_rows), _BATCH):
            batch = group_rows[start:start + _BATCH]
            plains = [open_utf8(row[2], row[0]) for row in batch]
            found.extend(batch[i] for i in matcher.matching(kind, plains))
    return found


def _newest_notes(db: Session, mine: Any, matched: list[Any], limit: int) -> list[_Item]:
    """The newest `limit` matched notes (and any tied with the last), each with its session.

    One statement walks the sessions newest first: by note id when the matches are few, else
    every note of the counsellor's cases, read only until `limit` matched ones are found (a
    common word matches thousands of notes; the rows past the first few hundred are never
    turned into Python objects)."""
    by_note = {row[3]: row for row in matched}
    note, held = Note.__table__, CounsellingSession.__table__
    query = (select(note.c.id, held.c.id, held.c.number, held.c.held_on)
             .join(held, and_(held.c.id == note.c.session_id, held.c.case_id == note.c.case_id))
             .where(note.c.case_id.in_(mine))
             .order_by(held.c.held_on.desc(), held.c.number.desc()))
    if len(by_note) <= _PLACES_BY_ID:
        query = query.where(note.c.id.in_(list(by_note)))
    found: list[_Item] = []
    result = db.execute(query)
    try:
        for note_id, session_id, number, held_on in result:
            # Past the limit only a tie with the last one found can still rank (by row id).
            if len(found) >= limit and (held_on, number) < (found[-1][4], found[-1][5]):
                break
            row = by_note.get(note_id)
            if row is not None:
                row_id, case_id, sealed, _note_id, kind, _number = row
                found.append((row_id, case_id, sealed, NOTE, held_on, number, kind, session_id))
    finally:
        result.close()
    return found


class _Ciphers:
    """One FieldCipher per case and kind, for this search only: a note revision's content
    under the private case key, a reflection's shared content under the shared case key."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._ciphers: dict[tuple[str, str], crypto.FieldCipher] = {}

    def cipher(self, kind: str, case_id: str) -> crypto.FieldCipher:
        """The cipher that opens this kind of text in this case."""
        cipher = self._ciphers.get((kind, case_id))
        if cipher is None:
            if kind == NOTE:
                cipher = crypto.FieldCipher(self._keyring.case_key(case_id, PRIVATE),
                                            "note_revisions", "content", case_id)
            else:
                # The scope is part of the column name (portal/reflections.py): only shared
                # text opens.
                cipher = crypto.FieldCipher(self._keyring.case_key(case_id, SHARED),
                                            "reflection_versions", f"content/{SHARED_SCOPE}",
                                            case_id)
            self._ciphers[(kind, case_id)] = cipher
        return cipher


def _texts(kind: str, plain: str) -> list[str]:
    """The searchable texts: a note's sections; a reflection's prompts and answers (ratings
    are numbers, not searched)."""
    data = json.loads(plain)
    if kind == NOTE:
        texts = list(data.values())
    else:
        texts = [data.get(prompt) for prompt in PROMPTS]
        texts.extend((data.get("answers") or {}).values())
    return [text for text in texts if isinstance(text, str) and text]


# --- matching ---------------------------------------------------------------------------------

# Characters of these categories have no case, and no other character folds into them, so a
# word made only of them is found by plain `in` (Chinese, Japanese, digits, punctuation).
# Not Nl and So: Roman numerals and circled letters fold (Ⅻ -> ⅻ, Ⓐ -> ⓐ).
_CASELESS = frozenset({"Lo", "Nd", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                       "Sk"})
# The only characters beyond ASCII whose casefold holds an ASCII letter (test_search.py
# recomputes them from the running Python's Unicode tables).
FOLDS_TO_ASCII = "ßİŉſǰẖẗẘẙẚẞ\u212aﬀﬁﬂﬃﬄﬅﬆ"  # \u212a: the Kelvin sign (-> k)
# A sealed JSON is json.dumps(..., ensure_ascii=False) of a note's sections or a reflection
# (ReflectionContent): string values, and besides them keys (section and field names, and the
# question ids that key a reflection's answers), numbers, null and punctuation. With the
# default separators a key always reads `"name": `, and inside a string every quote is escaped
# (\"), so `"name": ` occurs nowhere but as that key. A word is tested on the raw JSON when
# nothing but a string value can hold it:
# - the keys that could hold it are deleted first (`"plan": `, or any question id);
# - a word that could be part of a number, null or punctuation is then confirmed against the
#   parsed values (a raw match is still required: values appear in the raw text verbatim,
#   except the characters JSON escapes);
# - a word holding such a character (quote, backslash, control) is only tested on the parsed
#   values.
_JSON_KEYS = ({key for sections in TEMPLATES.values() for key, _label in sections}
              | {f.name for f in fields(ReflectionContent)})
_ID_KEY = re.compile(rb'"[0-9a-f-]+": ')  # a question id (a UUID) keying an answer
_ID_CHARS = frozenset("0123456789abcdef-")
_NUMBER_OR_NULL = frozenset("0123456789-+.eE{}[]:,nul")
_JSON_ESCAPED = frozenset('"\\') | frozenset(map(chr, range(32)))
# Sealed JSON is written with ensure_ascii=False, so a \uXXXX escape is a control character.
_JSON_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)


def _is_caseless(term: str) -> bool:
    return all(unicodedata.category(char) in _CASELESS for char in term)


def _could_supply(folded: str, term: str) -> bool:
    """Could a character folding to `folded` (ß -> "ss") supply part of a match of term? Only
    with a run of its fold that starts it (unless the run starts the term) and ends it (unless
    the run ends the term): "ﬁ" can supply "fi" of "fine" but not of "zebrafinch"."""
    for i in range(len(folded)):
        for j in range(i + 1, len(folded) + 1):
            piece = folded[i:j]
            at = term.find(piece)
            while at >= 0:
                if (at == 0 or i == 0) and (at + len(piece) == len(term) or j == len(folded)):
                    return True
                at = term.find(piece, at + 1)
    return False


def _holding(text: bytes, term: bytes, ends: list[int], among: set[int]) -> set[int]:
    """Which of the texts joined in `text` (text i ends at ends[i]) and in `among` hold term:
    one find per text that holds it, and one more."""
    found: set[int] = set()
    at = text.find(term)
    while at >= 0:
        i = bisect_right(ends, at)
        if i in among:
            found.add(i)
        at = text.find(term, ends[i])
    return found


def _fold_finders(ascii_terms: list[str]) -> list[tuple[int, re.Pattern[bytes]]]:
    """(first byte, pattern) for the characters of FOLDS_TO_ASCII that could supply letters of
    these terms, one pair per run of UTF-8 bytes the characters share but their last. An int
    `in` bytes is a memchr, so most texts are ruled out at once; where the byte occurs (Chinese
    full-width punctuation starts like ﬁ) one regular-expression pass finds them all."""
    groups: dict[bytes, list[bytes]] = {}
    for char in FOLDS_TO_ASCII:
        if any(_could_supply(char.casefold(), t) for t in ascii_terms):
            encoded = char.encode()
            groups.setdefault(encoded[:-1], []).append(encoded[-1:])
    return [(run[0], re.compile(re.escape(run) + b"[" + b"".join(map(re.escape, lasts)) + b"]"))
            for run, lasts in groups.items()]


class _Matcher:
    """Tests `all(term in text.casefold() for term in terms)` on a text given as UTF-8, without
    decoding or folding it when it can."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        caseless = [t for t in terms if _is_caseless(t)]
        cased = [t for t in terms if t not in caseless]
        ascii_terms = [t for t in cased if t.isascii()]  # looked for in lowered UTF-8
        # In valid UTF-8 the bytes of a run of characters occur only where those characters
        # do, so each test below may look for a term's UTF-8 in the text's.
        self._caseless = [t.encode() for t in caseless]
        self._ascii = [t.encode() for t in ascii_terms]
        self._other = [t for t in cased if t not in ascii_terms]
        self._folds_into_ascii = _fold_finders(ascii_terms)
        # How a decrypted JSON is tested (see _JSON_KEYS).
        self._values_only = any(_JSON_ESCAPED & set(t) for t in terms)
        self._values_after = any(set(t) <= _NUMBER_OR_NULL for t in terms)
        self._keys = tuple(b'"%b": ' % key.encode() for key in sorted(_JSON_KEYS)
                           if any(t in key for t in terms))
        self._id_keys = any(set(t) <= _ID_CHARS for t in terms)
        # Where a term could seem to start inside an escape: at its letter ("news" in
        # "\news"), or within the hex digits of a \u escape.
        self._escape_marks = tuple(
            {("\\" + t[0]).encode() for t in terms if t[0] in "ntrbfu/"}
            | {b"\\u" for t in terms if t[0] in "0123456789abcdef"})

    def matches(self, text: bytes) -> bool:
        """Does every term occur in the casefolded text (UTF-8)?"""
        for term in self._caseless:
            if term not in text:
                return False
        if self._other:
            folded = text.decode().casefold()
            return all(t in folded for t in self.terms)
        if not self._ascii:
            return True
        # bytes.lower() lowers the ASCII letters and keeps every other byte; an ASCII word
        # found there is in the casefolded text too (on ASCII, casefold is lower).
        lowered = text.lower()
        for term in self._ascii:
            if term not in lowered:
                break
        else:
            return True
        # Missed only if a character like ß (-> ss) or ﬁ (-> fi) supplies some letters.
        for lead, finder in self._folds_into_ascii:
            if lead in text and finder.search(text):
                folded = text.decode().casefold()
                return all(t in folded for t in self.terms)
        return False

    def matches_json(self, kind: str, plain: bytes) -> bool:
        """Does every term occur in the string values of this decrypted JSON (UTF-8)?"""
        if self._values_only:
            return self._matches_values(kind, plain)
        text = self._without_keys(plain)
        if not self.matches(text):
            return False
        if self._values_after:
            return self._matches_values(kind, plain)
        # Escapes (\n, \u0001) hold no term, but a term may seem to start inside one: then
        # the match is checked again, escapes blanked out.
        for mark in self._escape_marks:
            if mark in text:
                return self.matches(_JSON_ESCAPE.sub(b" ", text))
        return True

    def matching(self, kind: str, plains: list[bytes]) -> list[int]:
        """The positions in `plains` (decrypted JSONs, UTF-8) for which matches_json holds,
        found in one pass over all of them: calling it once per text costs twice as much."""
        if self._values_only or self._other:
            return [i for i, plain in enumerate(plains) if self.matches_json(kind, plain)]
        texts = [self._without_keys(plain) for plain in plains] if (
            self._keys or self._id_keys) else plains
        # No term holds whitespace, so none is found across the newline between two texts.
        joined = b"\n".join(texts)
        ends = list(accumulate(len(text) + 1 for text in texts))
        candidates = set(range(len(texts)))
        for term in self._caseless:
            candidates = _holding(joined, term, ends, candidates)
        found = candidates
        if self._ascii:
            lowered = joined.lower()  # as in matches(): ASCII letters only
            for term in self._ascii:
                found = _holding(lowered, term, ends, found)
            for lead, finder in self._folds_into_ascii:  # as in matches(): ß, ﬁ ...
                if lead in joined:
                    folding = {bisect_right(ends, m.start()) for m in finder.finditer(joined)}
                    found |= {i for i in (folding & candidates) - found
                              if self.matches(texts[i])}
        hits = sorted(found)
        if self._values_after:
            return [i for i in hits if self._matches_values(kind, plains[i])]
        for mark in self._escape_marks:  # as in matches_json()
            if mark in joined:
                marked = _holding(joined, mark, ends, found)
                hits = [i for i in hits if i not in marked
                        or self.matches(_JSON_ESCAPE.sub(b" ", texts[i]))]
        return hits

    def _without_keys(self, plain: bytes) -> bytes:
        """The JSON without the keys that could hold a term (see _JSON_KEYS)."""
        for key in self._keys:
            plain = plain.replace(key, b"")
        return _ID_KEY.sub(b"", plain) if self._id_keys else plain

    def _matches_values(self, kind: str, plain: bytes) -> bool:
        return self.matches("\n".join(_texts(kind, plain.decode())).encode())


# --- snippets ---------------------------------------------------------------------------------


def _fold(text: str) -> tuple[str, list[int] | None]:
    """The casefolded text and, when folding changed its length (ß -> ss), where each folded
    character came from; None means position i is position i."""
    folded = text.casefold()
    if len(folded) == len(text):  # casefold never maps a character to nothing
        return folded, None
    origin: list[int] = []
    for i, char in enumerate(text):
        origin.extend([i] * len(char.casefold()))
    return folded, origin


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Every occurrence of every term in text, as merged (start, end) in the original text."""
    folded, origin = _fold(text)
    found = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            found.append((origin[start], origin[end - 1] + 1) if origin else (start, end))
            start = folded.find(term, end)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, first: tuple[int, int]) -> tuple[int, int]:
    """About SNIPPET_CHARS of text around the first match, cut at spaces where there are any."""
    start = max(0, first[0] - _LEAD_CHARS)
    end = min(len(text), max(start + SNIPPET_CHARS, first[1]))
    start = max(0, min(start, end - SNIPPET_CHARS))
    if start > 0:
        space = text.find(" ", start, first[0])
        if 0 <= space - start < 20:
            start = space + 1
    if end < len(text):
        space = text.rfind(" ", first[1], end)
        if space >= 0 and end - space < 20:
            end = space
    return start, end


def snippet(texts: list[str], terms: list[str]) -> list[SnippetPiece]:
    """A short run of the first text that holds a term, with every term in it marked."""
    for text in texts:
        spans = _spans(text, terms)
        if not spans:
            continue
        start, end = _window(text, spans[0])
        pieces = [SnippetPiece("…")] if start > 0 else []
        at = start
        for span_start, span_end in spans:
            span_start, span_end = max(span_start, start), min(span_end, end)
            if span_start >= span_end:
                continue
            if span_start > at:
                pieces.append(SnippetPiece(_SPACES.sub(" ", text[at:span_start])))
            pieces.append(SnippetPiece(_SPACES.sub(" ", text[span_start:span_end]), True))
            at = span_end
        if at < end:
            pieces.append(SnippetPiece(_SPACES.sub(" ", text[at:end])))
        if end < len(text):
            pieces.append(SnippetPiece("…"))
        return pieces
    return []
