"""Search across a counsellor's session notes and shared reflections, decrypted in memory.

There is no index, and there must never be one: every word of a note is clinical text, and a
table of words (or of their hashes) would be exactly the readable copy that DESIGN 3 forbids.
So a search reads the latest text of every note and shared reflection in the counsellor's
cases, opens it with the case keys this request unwraps, and tests it in memory. The cost is
at most five SQL statements however many cases there are, one key unwrap per case that has
text, and one AES-GCM open per note or reflection; nothing of the query or the text is kept.

Matching is `all(word in text.casefold() for word in query words)`. `_Matcher` gets the same
answer faster (folding a non-ASCII text costs ~6 µs per KiB, nearly as much as opening it)
and, for most queries, tests the decrypted JSON without parsing it; test_search.py checks
both shortcuts against that plain definition.
"""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from ..keyring import Keyring
from ..models import (
    PRIVATE,
    SHARED,
    SHARED_SCOPE,
    Case,
    CaseKey,
    CounsellingSession,
    DirectoryEntry,
    Note,
    NoteRevision,
    Reflection,
    ReflectionVersion,
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


# One note's latest revision or one reflection's latest shared version, before it is opened:
# (kind, row id, case id, sealed content, date, session number or 0, state, link id)
_Item = tuple[str, str, str, bytes, date, int, str, str]


def query_terms(query: str) -> list[str]:
    """The casefolded words of a query, each to be found; InvalidChange if too short or long."""
    text = (query or "").strip()
    if not MIN_QUERY_CHARS <= len(text) <= MAX_QUERY_CHARS:
        raise InvalidChange("query")
    # Browsers send composed (NFC) text, and notes are typed the same way.
    return list(dict.fromkeys(unicodedata.normalize("NFC", text).casefold().split()))


def search_casework(db: Session, keyring: Keyring, counsellor: User, query: str,
                    limit: int = 50) -> SearchResults:
    """Every note (its latest revision) and shared reflection (its latest shared version) of
    this counsellor's open and closed cases that holds every word of the query, newest first;
    snippets for the first `limit` only. At most five statements, whatever the caseload."""
    if not counsellor.is_counsellor or keyring.user.id != counsellor.id:
        raise NotFound(counsellor.id)
    matcher = _Matcher(query_terms(query))
    limit = max(1, limit)
    me = counsellor.id
    mine = select(Case.id).where(Case.counsellor_id == me).scalar_subquery()
    cases = {
        case_id: (pseudonym, status, entry_id, name_sealed)
        for case_id, pseudonym, status, entry_id, name_sealed in db.execute(
            select(Case.id, Case.pseudonym, Case.status, DirectoryEntry.id,
                   DirectoryEntry.name_sealed)
            .join(DirectoryEntry, DirectoryEntry.case_id == Case.id)
            .where(Case.counsellor_id == me, DirectoryEntry.counsellor_id == me))
    }
    if not cases:
        return SearchResults([], 0, 0)
    # One statement loads every wrap of this counsellor's case keys into the session's
    # identity map, where Keyring.case_key (Session.get) then finds each without a query.
    # The local keeps them alive: the identity map holds objects only weakly.
    wraps = db.scalars(select(CaseKey).where(
        CaseKey.recipient_id == me, CaseKey.purpose.in_((PRIVATE, SHARED)),
        CaseKey.case_id.in_(mine))).all()

    later = aliased(NoteRevision)
    revisions = db.execute(
        select(NoteRevision.id, NoteRevision.case_id, NoteRevision.content_sealed,
               NoteRevision.note_id, NoteRevision.kind)
        .where(NoteRevision.case_id.in_(mine),
               ~exists().where(later.note_id == NoteRevision.note_id,
                               later.number > NoteRevision.number))
    ).all()
    reflections = _shared_reflections(db, mine)
    matched_notes = [row for row in revisions if row[1] in cases and matcher.matches_json(
        NOTE, _open(keyring, NOTE, row[0], row[1], row[2]))]
    matched: list[_Item] = [item for item in reflections if item[2] in cases and
                            matcher.matches_json(REFLECTION, _open(keyring, *item[:4]))]
    if matched_notes:
        places = _note_places(db, mine, [row[3] for row in matched_notes])
        for row_id, case_id, sealed, note_id, kind in matched_notes:
            if note_id in places:
                session_id, number, held_on = places[note_id]
                matched.append((NOTE, row_id, case_id, sealed, held_on, number, kind,
                                session_id))
    newest = heapq.nlargest(limit, matched, key=lambda item: (item[4], item[5], item[1]))

    hits: list[SearchHit] = []
    names: dict[str, str] = {}
    for kind, row_id, case_id, sealed, on, number, state, link_id in newest:
        pseudonym, status, entry_id, name_sealed = cases[case_id]
        if case_id not in names:
            names[case_id] = json.loads(unseal(keyring.directory_key(), name_sealed,
                                               "directory_entries", entry_id, "name",
                                               case_id))["display"]
        texts = _texts(kind, _open(keyring, kind, row_id, case_id, sealed))
        hits.append(SearchHit(
            kind=kind, case_id=case_id, pseudonym=pseudonym, display_name=names[case_id],
            case_closed=status == "closed", on=on, session_number=number or None,
            state=state, snippet=snippet(texts, matcher.terms),
            endpoint="cases.note" if kind == NOTE else "cases.reflection",
            link_args=({"case_id": case_id, "session_id": link_id} if kind == NOTE
                       else {"case_id": case_id, "reflection_id": link_id}),
        ))
    del wraps
    return SearchResults(hits, len(matched), len(revisions) + len(reflections))


def _note_places(db: Session, mine: Any, note_ids: list[str]
                 ) -> dict[str, tuple[str, int, date]]:
    """Note id -> (session id, number, date) for the matched notes: by id when they are few,
    else every note of the counsellor's cases (one statement either way)."""
    query = (select(Note.id, CounsellingSession.id, CounsellingSession.number,
                    CounsellingSession.held_on)
             .join(CounsellingSession, and_(CounsellingSession.id == Note.session_id,
                                            CounsellingSession.case_id == Note.case_id))
             .where(Note.case_id.in_(mine)))
    if len(note_ids) <= _PLACES_BY_ID:
        query = query.where(Note.id.in_(note_ids))
    return {note_id: (session_id, number, held_on)
            for note_id, session_id, number, held_on in db.execute(query)}


def _shared_reflections(db: Session, mine: Any) -> list[_Item]:
    """The latest shared version of every shared reflection (never a client's draft)."""
    later = aliased(ReflectionVersion)
    rows = db.execute(
        select(ReflectionVersion.id, ReflectionVersion.case_id, ReflectionVersion.content_sealed,
               ReflectionVersion.shared_at, Reflection.shared_at, Reflection.id)
        .join(Reflection, and_(Reflection.id == ReflectionVersion.reflection_id,
                               Reflection.case_id == ReflectionVersion.case_id))
        .where(ReflectionVersion.case_id.in_(mine), Reflection.status == "shared",
               ReflectionVersion.scope == SHARED_SCOPE,
               ~exists().where(later.reflection_id == ReflectionVersion.reflection_id,
                               later.scope == SHARED_SCOPE,
                               later.number > ReflectionVersion.number))
    )
    return [(REFLECTION, row_id, case_id, sealed,
             shared_at.date() if (shared_at := version_shared or first_shared) else date.min,
             0, "shared", reflection_id)
            for row_id, case_id, sealed, version_shared, first_shared, reflection_id in rows]


def _open(keyring: Keyring, kind: str, row_id: str, case_id: str, sealed: bytes) -> str:
    """The decrypted JSON of a note revision or of a shared reflection version."""
    if kind == NOTE:
        return unseal(keyring.case_key(case_id, PRIVATE), sealed, "note_revisions", row_id,
                      "content", case_id)
    # The scope is part of the column name (portal/reflections.py): only shared text opens.
    return unseal(keyring.case_key(case_id, SHARED), sealed, "reflection_versions", row_id,
                  f"content/{SHARED_SCOPE}", case_id)


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
# What a sealed JSON holds besides its string values: keys, numbers, null, punctuation, and
# the question ids that key a reflection's answers. A word that could be found there is
# checked against the parsed values instead.
_JSON_KEYS = ({key for sections in TEMPLATES.values() for key, _label in sections}
              | {f.name for f in fields(ReflectionContent)})
_JSON_SKELETON = frozenset("0123456789abcdef-+.eE{}[]:,null")
_JSON_ESCAPED = frozenset('"\\') | frozenset(map(chr, range(32)))
# Sealed JSON is written with ensure_ascii=False, so a \uXXXX escape is a control character.
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)


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


def _json_safe(term: str) -> bool:
    """Found in a decrypted JSON (escapes blanked out) only where it is in a string value."""
    return not (_JSON_ESCAPED & set(term) or set(term) <= _JSON_SKELETON
                or any(term in key for key in _JSON_KEYS))


class _Matcher:
    """Tests `all(term in text.casefold() for term in terms)`, without folding when it can."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self._caseless = [t for t in terms if _is_caseless(t)]
        cased = [t for t in terms if t not in self._caseless]
        self._ascii = [t for t in cased if t.isascii()]  # looked for in UTF-8 (see matches)
        self._ascii_bytes = [t.encode() for t in self._ascii]
        self._other = [t for t in cased if t not in self._ascii]
        self._folds_into_ascii = [char for char in FOLDS_TO_ASCII
                                  if any(_could_supply(char.casefold(), t) for t in self._ascii)]
        self._raw = all(_json_safe(t) for t in terms)
        # Where a term could seem to start inside an escape: at its letter ("news" in
        # "\news"), or within the hex digits of a \u escape.
        self._escape_marks = ({"\\" + t[0] for t in terms if t[0] in "ntrbfu/"}
                              | {"\\u" for t in terms if t[0] in "0123456789abcdef"})

    def matches(self, text: str) -> bool:
        """Does every term occur in the casefolded text?"""
        if not all(t in text for t in self._caseless):
            return False
        if self._other:
            folded = text.casefold()
            return all(t in folded for t in self.terms)
        if not self._ascii:
            return True
        if text.isascii():  # casefold is lower() there, and lower() is much faster
            lowered = text.lower()
            return all(t in lowered for t in self._ascii)
        # In UTF-8 an ASCII byte is always an ASCII character, so an ASCII word found in the
        # lowered bytes is in the casefolded text too; this costs a quarter of folding it.
        lowered_bytes = text.encode().lower()
        if all(t in lowered_bytes for t in self._ascii_bytes):
            return True
        # Missed only if a character like ß (-> ss) or ﬁ (-> fi) supplies some letters.
        if any(char in text for char in self._folds_into_ascii):
            folded = text.casefold()
            return all(t in folded for t in self.terms)
        return False

    def matches_json(self, kind: str, plain: str) -> bool:
        """Does every term occur in the string values of this decrypted JSON?"""
        if not self._raw:
            return self.matches("\n".join(_texts(kind, plain)))
        # Keys and numbers cannot hold a _json_safe term, and a match across a quote would
        # need a quote in the term. Escapes (\n, \u0001) hold no term either, but a term may
        # seem to start inside one: then the match is checked again, escapes blanked out.
        if not self.matches(plain):
            return False
        if not any(mark in plain for mark in self._escape_marks):
            return True
        return self.matches(_JSON_ESCAPE.sub(" ", plain))


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
