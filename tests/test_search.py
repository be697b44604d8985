"""Searching across a counsellor's notes and shared reflections (cases/search.py): what is
found (latest text only, never a client's draft, never another counsellor's case), how words
match (casefold, Chinese, every word), and that the query is kept nowhere — not in a URL, the
audit log, a log line, a flash or a file."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_query_counts import keyring_for

from bench.scenarios import counting
from journal.cases import notes, search, sessions
from journal.cases import service as cases_service
from journal.db import engine_for, session_for
from journal.models import ATTENDED, AuditEvent, Case, User

from conftest import (
    Browser,
    invite_and_join,
    join_as_client,
    new_case,
    new_session,
    reflection_version,
    share_reflection,
    start_reflection,
)


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def edit_version(page: str) -> str:
    return re.search(r'name="edit_version" type="hidden" value="(\d+)"', page).group(1)


def write_note(browser: Browser, case_id: str, session_id: str, sections: dict[str, str],
               template: str = "narrative", sign: bool = False) -> str:
    """Start a note, save (or sign) it through the form; returns the note's URL."""
    base = f"/cases/{case_id}/sessions/{session_id}/note"
    assert browser.post(base + "/start", {"template": template}).status_code == 302
    page = text_of(browser.get(base))
    data = {f"section_{k}": v for k, v in sections.items()}
    data.update(edit_version=edit_version(page), action="sign" if sign else "save")
    if sign:
        data["confirm_sign"] = "y"
    assert browser.post(base, data).status_code == 302
    return base


def amend_note(browser: Browser, base: str, sections: dict[str, str], reason: str) -> None:
    page = text_of(browser.get(base))
    data = {f"section_{k}": v for k, v in sections.items()}
    data.update(edit_version=edit_version(page), reason=reason)
    assert browser.post(base, data).status_code == 302


def find(browser: Browser, query: str, **kw: Any):
    return browser.post("/search", {"query": query}, **kw)


def found(browser: Browser, query: str) -> str:
    resp = find(browser, query)
    assert resp.status_code == 200, text_of(resp)
    return text_of(resp)


def nothing_found(page: str) -> bool:
    return "Nothing found" in page


# --- the page ---------------------------------------------------------------------------------


def test_the_dashboard_links_to_an_empty_search_form(counsellor):
    assert 'href="/search"' in text_of(counsellor.get("/"))
    resp = counsellor.get("/search")
    page = text_of(resp)
    assert resp.status_code == 200
    assert "Search your notes" in page
    assert "A word or phrase from a note or reflection" in page
    assert 'method="post" action="/search"' in page
    assert 'id="results-h"' not in page


def test_a_word_in_a_draft_note_is_found_and_linked(counsellor):
    case_id = new_case(counsellor, "Robin Example")
    session_id = new_session(counsellor, case_id, "2026-03-02")
    base = write_note(counsellor, case_id, session_id,
                      {"narrative": "We talked about the Lighthouse dream again."})
    page = found(counsellor, "lighthouse")
    assert "1 match" in page
    assert "Robin Example" in page
    assert f'href="{base}"' in page
    assert "<mark>Lighthouse</mark>" in page
    assert "Session 1 note" in page and "02 Mar 2026" in page and "draft" in page
    pseudonym = re.search(r"<code>(C-[A-Z0-9]{4})</code>", page).group(1)
    with session_for(counsellor.client.application) as db:
        assert db.scalar(select(Case.pseudonym).where(Case.id == case_id)) == pseudonym


def test_only_the_latest_text_of_a_signed_and_amended_note_is_found(counsellor):
    case_id = new_case(counsellor)
    session_id = new_session(counsellor, case_id)
    base = write_note(counsellor, case_id, session_id, {"narrative": "Spoke of the orchard."},
                      sign=True)
    assert "signed" in found(counsellor, "orchard")
    amend_note(counsellor, base, {"narrative": "Spoke of the vineyard."}, "Misheard")
    page = found(counsellor, "vineyard")
    assert "<mark>vineyard</mark>" in page and "amended" in page
    # The amended-away text is kept as an earlier version, but search reads the latest only.
    assert nothing_found(found(counsellor, "orchard"))
    assert "orchard" in text_of(counsellor.get(base + "/versions"))


def test_every_section_of_a_template_is_searched_and_every_word_must_occur(counsellor):
    case_id = new_case(counsellor)
    first = write_note(counsellor, case_id, new_session(counsellor, case_id, "2026-01-05"),
                       {"subjective": "An apple a day", "plan": "Banana bread on Sunday"},
                       template="soap")
    second = write_note(counsellor, case_id, new_session(counsellor, case_id, "2026-01-12"),
                        {"subjective": "An apple and a cherry"}, template="soap")
    page = found(counsellor, "banana APPLE")  # in two different sections of one note
    assert "1 match" in page and f'href="{first}"' in page and f'href="{second}"' not in page
    page = found(counsellor, "apple")
    assert "2 matches" in page
    # Newest session first.
    assert page.index(f'href="{second}"') < page.index(f'href="{first}"')
    assert nothing_found(found(counsellor, "apple durian"))


def test_matching_ignores_case_and_finds_chinese_inside_a_sentence(counsellor):
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id),
               {"narrative": "她说最近睡眠不好，工作压力很大。 Die STRAẞE war laut."})
    assert "<mark>睡眠</mark>" in found(counsellor, "睡眠")
    assert not nothing_found(found(counsellor, "压力"))
    assert "<mark>STRAẞE</mark>" in found(counsellor, "strasse")  # casefold: ẞ -> ss
    assert not nothing_found(found(counsellor, "Straße"))
    assert not nothing_found(found(counsellor, "睡眠 LAUT"))
    assert nothing_found(found(counsellor, "睡觉"))


def test_template_words_and_json_escapes_never_match_by_themselves(counsellor):
    """The decrypted JSON is searched as it is for speed; its keys ("plan") and escapes
    ("\\n" before "ewsletter") must not make a match."""
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id),
               {"subjective": "Calm\newsletter", "objective": 'She said "no" \\ twice'},
               template="soap")
    assert nothing_found(found(counsellor, "plan"))
    assert nothing_found(found(counsellor, "subjective"))
    assert nothing_found(found(counsellor, "newsletter"))
    assert not nothing_found(found(counsellor, "ewsletter"))
    assert not nothing_found(found(counsellor, '"no"'))
    assert not nothing_found(found(counsellor, "\\ twice"))


# --- reflections ------------------------------------------------------------------------------


def save_reflection(client: Browser, reflection_id: str, action: str = "save",
                    **fields: str) -> None:
    resp = client.post(f"/portal/reflections/{reflection_id}", {
        **fields, "action": action, "edit_version": reflection_version(client, reflection_id),
        "week_rating_skip": "1", "session_rating_skip": "1"})
    assert resp.status_code == 302, text_of(resp)


def test_shared_reflections_are_found_but_never_a_clients_draft(app, counsellor):
    case_id = new_case(counsellor)
    client = join_as_client(app, counsellor, case_id, "robin")
    shared_id = share_reflection(client, helped="Walking by the canalside")
    draft_id = start_reflection(client)
    save_reflection(client, draft_id, hard="A secretdraftword only I know")

    page = found(counsellor, "CANALSIDE")
    assert "1 match" in page and "Reflection from your client" in page
    assert f'href="/cases/{case_id}/reflections/{shared_id}"' in page
    assert "<mark>canalside</mark>" in page
    assert nothing_found(found(counsellor, "secretdraftword"))

    # The client starts changing what they shared: until they share again, the counsellor's
    # search still reads the shared text, never the new draft.
    assert client.post(f"/portal/reflections/{shared_id}/amend").status_code == 302
    save_reflection(client, shared_id, helped="Walking by the riverbank")
    assert nothing_found(found(counsellor, "riverbank"))
    assert not nothing_found(found(counsellor, "canalside"))
    save_reflection(client, shared_id, action="share", helped="Walking by the riverbank")
    assert not nothing_found(found(counsellor, "riverbank"))
    assert nothing_found(found(counsellor, "canalside"))


def test_answers_to_open_questions_are_searched(app, counsellor):
    case_id = new_case(counsellor)
    session_id = new_session(counsellor, case_id)
    counsellor.post(f"/cases/{case_id}/sessions/{session_id}/questions",
                    {"text": "What would rest look like?"})
    client = join_as_client(app, counsellor, case_id, "robin")
    reflection_id = start_reflection(client)
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    question_id = re.search(r'name="answer_([0-9a-f-]{36})"', page).group(1)
    save_reflection(client, reflection_id, action="share",
                    **{f"answer_{question_id}": "A hammock under the plum tree"})
    assert "<mark>hammock</mark>" in found(counsellor, "hammock")


# --- whose notes ------------------------------------------------------------------------------


def test_another_counsellors_notes_never_appear(app, counsellor):
    bea = invite_and_join(app, counsellor, "bea")
    beas_case = new_case(bea, "Bea Client")
    write_note(bea, beas_case, new_session(bea, beas_case), {"narrative": "The bluefinch"})
    ada_case = new_case(counsellor, "Ada Client")
    write_note(counsellor, ada_case, new_session(counsellor, ada_case),
               {"narrative": "The goldfinch"})

    page = found(counsellor, "finch")
    assert "1 match" in page and "Ada Client" in page
    assert "Bea Client" not in page and beas_case not in page
    assert nothing_found(found(counsellor, "bluefinch"))
    page = found(bea, "finch")
    assert "1 match" in page and "blue<mark>finch</mark>" in page and ada_case not in page


def test_closed_cases_are_searched_and_marked_closed(counsellor):
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id),
               {"narrative": "An old kite"})
    assert counsellor.post(f"/cases/{case_id}/close").status_code == 302
    page = found(counsellor, "kite")
    assert "1 match" in page and '<span class="tag">closed</span>' in page


def test_clients_cannot_reach_the_search(app, counsellor):
    case_id = new_case(counsellor)
    client = join_as_client(app, counsellor, case_id, "robin")
    assert client.get("/search").status_code == 404
    assert find(client, "anything").status_code == 404


def test_html_in_a_note_is_shown_as_text(counsellor):
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id),
               {"narrative": "<b>bold</b> harbourlight <script>alert(1)</script>"})
    page = found(counsellor, "harbourlight")
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<script>alert" not in page


# --- the query is kept nowhere ----------------------------------------------------------------


QUERY = "Quillcanary lantern"


def _files(folder: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_the_query_is_never_in_a_url_the_audit_log_a_log_line_a_flash_or_a_file(
        app, counsellor, caplog):
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id),
               {"narrative": "The quillcanary lit a lantern."})
    with session_for(app) as db:
        before = db.scalar(select(func.max(AuditEvent.seq)))
    caplog.set_level(logging.DEBUG)

    resp = find(counsellor, QUERY)
    page = text_of(resp)
    assert resp.status_code == 200 and "1 match" in page
    assert "Location" not in resp.headers
    # Shown back in the form of this no-store page, and nowhere a URL could carry it.
    assert f'value="{QUERY}"' in page
    assert resp.headers["Cache-Control"].startswith("no-store")
    for url in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        assert "quill" not in url.lower() and "lantern" not in url.lower(), url
    with counsellor.client.session_transaction() as flask_session:
        assert not flask_session.get("_flashes")

    with session_for(app) as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
        me = db.scalar(select(User.id).where(User.login_name == "ada"))
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.case_id) for e in events] == [
        ("casework.searched", me, "user", me, None)]
    for event in events:
        for column in AuditEvent.__table__.columns:
            value = getattr(event, column.key)
            assert "quill" not in str(value).lower(), column.key

    assert "quill" not in caplog.text.lower() and "lantern" not in caplog.text.lower()
    for record in caplog.records:
        assert "quill" not in repr(record.args).lower()

    engine_for(app).dispose()  # the WAL is checkpointed into journal.db (SQLite)
    for name, data in _files(app.instance_path).items():
        for word in ("Quillcanary", "quillcanary", "lantern"):
            for encoded in (word.encode("utf-8"), word.encode("utf-16-le")):
                assert encoded not in data, name


def test_a_kind_message_for_a_query_too_short_too_long_or_missing(app, counsellor):
    with session_for(app) as db:
        before = db.scalar(select(func.count()).select_from(AuditEvent))
    for data in ({"query": "a"}, {"query": "   x  "}, {"query": ""}, {}):
        resp = counsellor.post("/search", data)
        assert resp.status_code == 400
        assert "Please type at least two characters" in text_of(resp)
    resp = find(counsellor, "w" * 201)
    assert resp.status_code == 400 and "up to 200 characters" in text_of(resp)
    assert find(counsellor, "w" * 300_000).status_code == 400
    assert find(counsellor, "  " + "w" * 200 + "  ").status_code == 200  # stripped first
    with session_for(app) as db:
        after = db.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before + 1  # only the search that ran


def test_malformed_posts_never_fail(app, counsellor):
    token = counsellor.token()
    raw = counsellor.client.post(
        "/search", data=b"csrf_token=" + token.encode() + b"&query=%ff%fe%c3%28\x00ab",
        content_type="application/x-www-form-urlencoded")
    assert raw.status_code in (200, 400)
    twice = counsellor.post("/search", {"query": ["one word", "another"]})
    assert twice.status_code in (200, 400)
    assert counsellor.post("/search", {"query": "hello"}, csrf=False).status_code == 400
    assert find(counsellor, "\x00\x01").status_code in (200, 400)


# --- cost -------------------------------------------------------------------------------------


def _grow(app, n: int) -> None:
    """n more cases, each with a session and a note holding the searched word."""
    with app.app_context(), session_for(app) as db:
        me = keyring_for(app, db, "ada")
        for i in range(n):
            case = cases_service.create_case(db, me, cases_service.ClientProfile(name=f"C{i}"))
            db.flush()
            s = sessions.add_session(db, case, date(2025, 1, 6) + timedelta(days=i), 50,
                                     ATTENDED)
            db.flush()
            note = notes.start_note(db, me, s, "narrative")
            notes.save_draft(db, me, note, {"narrative": f"Tidepool {i}"}, note.edit_version)
            if i % 3 == 0:
                cases_service.close_case(case)
        db.commit()


def _statements_for_a_search(app, browser: Browser) -> int:
    find(browser, "tidepool")  # warm: a first request may read the practice row once
    with counting(app) as statements:
        resp = find(browser, "tidepool")
    assert resp.status_code == 200
    return len(statements)


def test_a_search_costs_the_same_statements_with_1_and_30_cases(app, counsellor):
    case_id = new_case(counsellor)
    write_note(counsellor, case_id, new_session(counsellor, case_id), {"narrative": "Tidepool"})
    client = join_as_client(app, counsellor, case_id, "robin")
    share_reflection(client, helped="A tidepool at low tide")
    small = _statements_for_a_search(app, counsellor)
    assert "2 matches" in found(counsellor, "tidepool")
    _grow(app, 29)
    large = _statements_for_a_search(app, counsellor)
    assert "31 matches" in found(counsellor, "tidepool")
    assert large == small, (small, large)


def test_limit_counts_everything_but_builds_only_the_first_hits(app, counsellor):
    _grow(app, 5)
    with app.app_context(), session_for(app) as db:
        me = keyring_for(app, db, "ada")
        results = search.search_casework(db, me, me.user, "TIDEPOOL", limit=2)
        assert results.total == 5 and len(results.hits) == 2 and results.has_more
        assert results.searched == 5
        assert [h.on for h in results.hits] == [date(2025, 1, 10), date(2025, 1, 9)]
        assert all(h.kind == search.NOTE and h.endpoint == "cases.note" for h in results.hits)
        everything = search.search_casework(db, me, me.user, "tidepool")
        assert everything.total == 5 and len(everything.hits) == 5
        assert not everything.has_more
        assert sum(h.case_closed for h in everything.hits) == 2  # cases 0 and 3 were closed
        with pytest.raises(search.InvalidChange):
            search.search_casework(db, me, me.user, " a ")


def test_a_client_or_someone_elses_keyring_cannot_search(app, counsellor):
    case_id = new_case(counsellor)
    join_as_client(app, counsellor, case_id, "robin")
    with app.app_context(), session_for(app) as db:
        ada = keyring_for(app, db, "ada")
        robin = keyring_for(app, db, "robin")
        with pytest.raises(search.NotFound):
            search.search_casework(db, robin, robin.user, "anything")
        with pytest.raises(search.NotFound):
            search.search_casework(db, robin, ada.user, "anything")


# --- matching and snippets, against their plain definitions -----------------------------------

_ALPHABET = st.sampled_from(list(
    "aAbBsSkKiIfFnNlLtT ?\n\t\"\\\x01:,{}5-0e睡眠σΣςßẞİıﬁﬀ\u212a ſé\u0301ŉǰ"))
_TEXT = st.text(_ALPHABET, max_size=40)


def _reference(terms: list[str], texts: list[str]) -> bool:
    return all(term in "\n".join(texts).casefold() for term in terms)


@settings(max_examples=400, deadline=None)
@given(query=st.text(_ALPHABET, min_size=2, max_size=12), texts=st.lists(_TEXT, max_size=4))
def test_the_matcher_agrees_with_casefold(query, texts):
    if not query.strip() or len(query.strip()) < 2:
        return
    terms = search.query_terms(query)
    matcher = search._Matcher(terms)
    expected = _reference(terms, texts)
    assert matcher.matches("\n".join(texts).encode()) == expected
    sections = dict(zip(("subjective", "objective", "assessment", "plan"), texts, strict=False))
    plain = json.dumps(sections, ensure_ascii=False).encode()
    assert matcher.matches_json(search.NOTE, plain) == _reference(terms, list(sections.values()))
    reflection = {"stood_out": texts[0] if texts else "", "helped": "", "hard": "",
                  "for_counsellor": "", "answers": {"4f1c2b9e-5d1a-4c11-9a7e-0b3c2d1e0f55":
                                                    texts[-1] if texts else ""},
                  "week_rating": 5, "session_rating": None}
    plain = json.dumps(reflection, ensure_ascii=False).encode()
    searched = [reflection["stood_out"], *reflection["answers"].values()]
    assert matcher.matches_json(search.REFLECTION, plain) == _reference(terms, searched)
    joined = [json.dumps({"narrative": text}, ensure_ascii=False).encode() for text in texts]
    assert matcher.matching(search.NOTE, joined) == [
        i for i, text in enumerate(texts) if _reference(terms, [text])]
    if expected:
        pieces = search.snippet([t for t in texts if t], terms)
        assert any(p.match for p in pieces)


_KEYISH = st.sampled_from(["plan", "data", "help", "hard", "out", "rating", "session", "ass",
                           "an", "at", "and", "dad", "feel", "null", "nu", "2024", "5", "5,",
                           "4f1c", "c2b9e-5", "-", "e", ":", "a,", "u00", "n", "\\n", "ſ", "ﬁn"])
_WORDY = st.text(st.sampled_from(list("planedhrtouigsfAPLNDHRTUE 5024-,:{}\"\\\n\t\x01ſﬁ睡")),
                 max_size=30)
_QUESTION_IDS = ["4f1c2b9e-5d1a-4c11-9a7e-0b3c2d1e0f55", "0a2024ff-0000-4000-8000-00000000dad0"]


@settings(max_examples=400, deadline=None)
@given(terms=st.lists(_KEYISH, min_size=1, max_size=3, unique=True),
       texts=st.lists(_WORDY, min_size=1, max_size=6),
       template=st.sampled_from(["soap", "dap", "birp", "narrative"]),
       ratings=st.tuples(st.sampled_from([None, 0, 5, 10]), st.sampled_from([None, 2024])))
def test_words_found_in_keys_numbers_or_ids_are_matched_only_in_values(terms, texts, template,
                                                                       ratings):
    terms = list(dict.fromkeys(t.casefold() for t in terms))  # as query_terms gives them
    matcher = search._Matcher(terms)
    keys = notes.section_keys(template)
    sections = {key: texts[i % len(texts)] for i, key in enumerate(keys)}
    note = json.dumps(sections, ensure_ascii=False).encode()
    reflection_data = {"stood_out": texts[0], "helped": texts[-1], "hard": "", "for_counsellor": "",
                       "answers": dict(zip(_QUESTION_IDS, texts[1:3], strict=False)),
                       "week_rating": ratings[0], "session_rating": ratings[1]}
    reflection = json.dumps(reflection_data, ensure_ascii=False).encode()
    in_note = _reference(terms, list(sections.values()))
    in_reflection = _reference(terms, [reflection_data[p] for p in ("stood_out", "helped",
                                                                    "hard", "for_counsellor")]
                               + list(reflection_data["answers"].values()))
    assert matcher.matches_json(search.NOTE, note) == in_note
    assert matcher.matches_json(search.REFLECTION, reflection) == in_reflection
    # Many at once, as a search tests them.
    assert matcher.matching(search.NOTE, [note, note, b"{}"]) == ([0, 1] if in_note else [])
    assert matcher.matching(search.REFLECTION, [b"{}", reflection]) == (
        [1] if in_reflection else [])


def test_the_unicode_tables_behind_the_shortcuts_hold():
    folds_to_ascii, fold_targets = set(), set()
    for code in range(0x110000):
        char = chr(code)
        folded = char.casefold()
        if code >= 0x80 and any(c.isascii() for c in folded):
            folds_to_ascii.add(char)
        if folded != char:
            fold_targets.update(c for c in folded if c != char)
            assert unicodedata.category(char) not in search._CASELESS, hex(code)
    assert folds_to_ascii == set(search.FOLDS_TO_ASCII)
    assert not {unicodedata.category(c) for c in fold_targets} & search._CASELESS


def test_a_snippet_is_short_marks_every_word_and_keeps_the_original_letters():
    text = ("Earlier we spoke about work and family. " * 5 + "Then the Lighthouse came up, "
            "and the lighthouse keeper. " + "Later we spoke about sleep. " * 5)
    pieces = search.snippet(["", text], ["lighthouse"])
    assert pieces[0].text == "…" and pieces[-1].text == "…"
    assert [p.text for p in pieces if p.match] == ["Lighthouse", "lighthouse"]
    assert len("".join(p.text for p in pieces)) <= search.SNIPPET_CHARS + 2
    pieces = search.snippet(["Die Straße war laut"], ["strasse"])
    assert [p.text for p in pieces] == ["Die ", "Straße", " war laut"]
    assert [p.match for p in pieces] == [False, True, False]
    pieces = search.snippet(["line one\n\nline   two"], ["two"])
    assert "".join(p.text for p in pieces) == "line one line two"
