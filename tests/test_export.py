"""The export as a counsellor uses it: review, leak check, formats, audit, 404s, CLI."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from journal.db import session_for
from journal.export.formats.pdf import MissingFont, find_font
from journal.models import AuditEvent

from conftest import (
    Browser,
    invite_and_join,
    join_as_client,
    new_case,
    new_session,
    share_reflection,
    skip_or_fail,
    start_reflection,
)

NOTE = ("Tom said his wife Sarah found him crying on 3 March 2026. He rang 0161 496 0732 "
        "and emailed tom.bell87@example.co.uk. His colleague Priya Sharma from Keswick "
        "Building Society helped. 张伟说他很担心。CBT homework; PHQ-9 was 14 last Tuesday.")


def make_case(counsellor: Browser) -> str:
    case_id = new_case(counsellor, "Thomas Bell", preferred_name="Tom", aliases="Tommy, TB",
                       date_of_birth="1987-03-14", contact="0161 496 0732")
    counsellor.post(f"/cases/{case_id}/people", {"name": "Sarah Bell", "relation": "wife"})
    counsellor.post(f"/cases/{case_id}/people", {"name": "张伟", "relation": "friend"})
    session_id = new_session(counsellor, case_id, held_on="2026-01-12")
    base = f"/cases/{case_id}/sessions/{session_id}/note"
    assert counsellor.post(base + "/start", {"template": "narrative"}).status_code == 302
    version = re.search(r'name="edit_version"[^>]*value="(\d+)"',
                        counsellor.get(base).get_data(as_text=True)).group(1)
    resp = counsellor.post(base, {"section_narrative": NOTE, "edit_version": version,
                                  "action": "save"})
    assert resp.status_code == 302
    return case_id


def review_post(counsellor: Browser, case_id: str, **fields):
    data = {"format": "md", "extra_terms": "", "action": "export", "checked_job": "y",
            "checked_place": "y", "checked_event": "y", **fields}
    return counsellor.post(f"/cases/{case_id}/export/review", data)


def flagged_keys(page: str) -> list[str]:
    return re.findall(r'name="hide" value="([^"]+)"', page)


def test_review_shows_every_replacement_and_exports_clean_markdown(app, counsellor):
    case_id = make_case(counsellor)
    page = counsellor.get(f"/cases/{case_id}/export/review").get_data(as_text=True)
    assert "[Client]" in page and "[Wife]" in page and "[Friend]" in page
    assert "<mark" in page and "please check" in page
    keys = flagged_keys(page)
    assert any("priya" in k for k in keys)
    resp = review_post(counsellor, case_id, hide=keys)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    for secret in ("Tom", "Sarah", "Bell", "0161 496 0732", "tom.bell87", "Priya", "张伟",
                   "3 March", "Keswick"):
        assert secret not in text, secret
    assert "[week 8]" in text and "CBT" in text and "PHQ-9" in text and "last Tuesday" in text
    with session_for(app) as db:
        event = db.scalars(select(AuditEvent).where(
            AuditEvent.action == "export.anonymised")).one()
        assert event.case_id == case_id and event.object_type == "case.md"


def test_untick_keeps_a_flagged_term_and_added_terms_are_hidden(counsellor):
    case_id = make_case(counsellor)
    page = counsellor.get(f"/cases/{case_id}/export/review").get_data(as_text=True)
    keep_priya = [k for k in flagged_keys(page) if "priya" not in k]
    resp = review_post(counsellor, case_id, hide=keep_priya, extra_terms="homework",
                       format="json")
    data = json.loads(resp.get_data(as_text=True))
    text = data["sessions"][0]["note"]["sections"][0]["text"]
    assert "Priya" in text and "homework" not in text and "[Redacted 1]" in text
    assert data["flavour"] == "anonymised" and data["people"][0] == {
        "label": "[Wife]", "relation": "wife"}
    assert "date" not in data["sessions"][0]


def test_checklist_must_be_ticked(app, counsellor):
    case_id = make_case(counsellor)
    resp = review_post(counsellor, case_id, checked_event="")
    assert resp.status_code == 400
    assert "three checks" in resp.get_data(as_text=True)
    with session_for(app) as db:
        assert not db.scalars(select(AuditEvent).where(
            AuditEvent.action.like("export.%"))).all()


def test_leak_check_blocks_export(app, counsellor, monkeypatch):
    from journal.export import anonymised

    case_id = make_case(counsellor)
    # A detector bug is simulated by an anonymiser that forgets the client's nickname.
    original = anonymised.AnonymisedSummary._text_of
    monkeypatch.setattr(anonymised.AnonymisedSummary, "_text_of",
                        lambda self, where, text: original(self, where, text) + " Tommy")
    resp = review_post(counsellor, case_id)
    assert resp.status_code == 422
    assert "was not exported" in resp.get_data(as_text=True)
    with session_for(app) as db:
        assert not db.scalars(select(AuditEvent).where(
            AuditEvent.action.like("export.%"))).all()


def keyring_of(app, db, login: str = "ada"):
    """The counsellor's keys, unlocked the way sign-in unlocks them."""
    from journal.auth import service as auth
    from journal.auth.context import kdf_settings
    from journal.keyring import Keyring

    from conftest import PASSPHRASE

    unlocked = auth.authenticate(db, login, PASSPHRASE, kdf_settings())
    return Keyring(db, unlocked.user, unlocked.private_key)


def rich_case(app, counsellor: Browser) -> str:
    """make_case, with a question asked about Priya and a reflection that names Sarah."""
    case_id = make_case(counsellor)
    session_id = re.search(r"/sessions/([0-9a-f-]{36})", counsellor.get(
        f"/cases/{case_id}").get_data(as_text=True)).group(1)
    counsellor.post(f"/cases/{case_id}/sessions/{session_id}/questions",
                    {"text": "What would saying no to Priya feel like?"})
    client = join_as_client(app, counsellor, case_id, "tom-client")
    share_reflection(client, stood_out="Sarah and I walked to Keswick on 3 March. 😊",
                     hard="Tommy from work rang 0161 496 0732 twice.")
    return case_id


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_the_streamed_export_is_the_reviewed_one(app, counsellor, fmt):
    # anonymised_document reads, anonymises and writes a piece at a time; the review page
    # keeps everything. Same case, same decisions: the same bytes.
    from journal.export import formats, service
    from journal.models import Case

    case_id = rich_case(app, counsellor)
    with app.test_request_context(), session_for(app) as db:
        keyring, case = keyring_of(app, db), db.get(Case, case_id)
        streamed = service.anonymised_document(db, keyring, case, fmt)
        reviewed = formats.render(service.review(db, keyring, case).data, fmt)
        db.rollback()
    assert streamed == reviewed
    text = streamed.decode("utf-8")
    for secret in ("Tom", "Sarah", "Priya", "Keswick", "0161", "3 March", "张伟"):
        assert secret not in text, secret
    assert "😊" in text and "[Client]" in text


def test_the_streamed_export_is_leak_checked_too(app, counsellor, monkeypatch):
    from journal.export import service
    from journal.export.anonymiser import engine
    from journal.models import Case

    case_id = rich_case(app, counsellor)
    original = engine.Anonymiser.apply
    monkeypatch.setattr(engine.Anonymiser, "apply", lambda self, text, spans, keep=frozenset(): (
        original(self, text, spans, keep)[0] + " Tommy", original(self, text, spans, keep)[1]))
    with app.test_request_context(), session_for(app) as db:
        keyring, case = keyring_of(app, db), db.get(Case, case_id)
        with pytest.raises(service.LeakFound) as caught:
            service.anonymised_document(db, keyring, case, "md")
        assert caught.value.leaks == ["Tommy"]
        assert not db.scalars(select(AuditEvent).where(
            AuditEvent.action.like("export.%"))).all()
        db.rollback()


def test_a_review_round_trip_finds_each_text_once(app, counsellor, monkeypatch):
    # The page used to anonymise the whole case three times per POST: to learn the flagged
    # terms, to export, and to show the page again. Now once; the choices are re-applied.
    from journal.export.anonymiser import engine

    case_id = rich_case(app, counsellor)
    scanned: list[str] = []
    original = engine.Anonymiser.scan
    monkeypatch.setattr(engine.Anonymiser, "scan",
                        lambda self, text: scanned.append(text) or original(self, text))
    page = counsellor.get(f"/cases/{case_id}/export/review").get_data(as_text=True)
    texts = len(scanned)
    assert texts >= 4
    keys = flagged_keys(page)
    scanned.clear()
    resp = review_post(counsellor, case_id, hide=keys[1:], action="preview")
    assert resp.status_code == 200 and len(scanned) == texts
    scanned.clear()
    resp = review_post(counsellor, case_id, hide=keys[1:])
    assert "attachment" in resp.headers["Content-Disposition"] and len(scanned) == texts


def test_pdf_contains_the_chinese(counsellor):
    try:
        find_font(None)
    except MissingFont:
        skip_or_fail("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    from pypdf import PdfReader

    case_id = make_case(counsellor)
    resp = review_post(counsellor, case_id, format="pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    # pypdf separates the glyphs of a CID font with NULs or spaces; the words are intact.
    compact = re.sub(r"[\s\x00]+", "", text)
    assert "说他很担心" in compact and "[Friend]" in compact and "张伟" not in compact


def test_pdf_text_is_encoded_as_fpdf2_encodes_it():
    # pdf.py maps characters to the font subset its own, quicker way: the same strings, the
    # same subset codes in the same order, characters missing from the font dropped.
    try:
        path, index = find_font(None)
    except MissingFont:
        skip_or_fail("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    from fpdf import FPDF

    from journal.export.formats import pdf as pdf_format

    lines = ["Session 3 · [Client] said (so)", "来访者说这周睡得不好，凌晨四点就醒了。",
             "tab\tand \\ back(slash)", "🙂 emoji, \u0000 and \ufffe", "", "Session 3 again 说"]
    plain, fast = FPDF(), FPDF()
    plain.add_font("body", fname=path, collection_font_number=index)
    pdf_format._add_font(fast, path, index)
    pdf_format._encode_faster(fast.fonts["body"])
    assert type(fast.fonts["body"]) is not type(plain.fonts["body"])
    for line in lines:
        assert fast.fonts["body"].encode_text(line) == plain.fonts["body"].encode_text(line)
    assert list(fast.fonts["body"].subset.items()) == list(plain.fonts["body"].subset.items())
    assert fast.fonts["body"].missing_glyphs == plain.fonts["body"].missing_glyphs
    for document in (plain, fast):
        document.fonts["body"].close()  # output() would; these are never written


def test_pdfs_one_after_another_each_have_their_own_font(counsellor):
    # The parsed font is shared between documents; each gets its own subset of it.
    try:
        find_font(None)
    except MissingFont:
        skip_or_fail("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    from pypdf import PdfReader

    from journal.export.formats import pdf as pdf_format
    from journal.export.formats.blocks import Block

    texts = []
    for words in ("张伟说他很担心 first", "second 好累 [Client]", "张伟说他很担心 first"):
        document = pdf_format.render_pdf([Block("title", "Summary"), Block("text", words)])
        texts.append(re.sub(r"[\s\x00]+", "", "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)))
    assert texts[0] == texts[2] == "Summary张伟说他很担心first"
    assert texts[1] == "Summarysecond好累[Client]"


def test_client_copy_has_what_the_client_wrote_and_notes_only_when_chosen(app, counsellor):
    case_id = make_case(counsellor)
    client = join_as_client(app, counsellor, case_id, "tom-client")
    start_reflection(client)
    share_reflection(client, stood_out="The walk with Sarah helped 🙂")
    resp = counsellor.post(f"/cases/{case_id}/export/client-copy", {"format": "json"})
    data = json.loads(resp.get_data(as_text=True))
    assert data["flavour"] == "identifiable" and data["case"]["client_name"] == "Thomas Bell"
    assert data["reflections"][0]["prompts"]["stood_out"] == "The walk with Sarah helped 🙂"
    assert "note" not in data["sessions"][0] and "people" not in data
    assert data["sessions"][0]["date"] == "2026-01-12"
    with_notes = json.loads(counsellor.post(
        f"/cases/{case_id}/export/client-copy",
        {"format": "json", "include_notes": "y"}).get_data(as_text=True))
    assert "Priya Sharma" in with_notes["sessions"][0]["note"]["sections"][0]["text"]
    md = counsellor.post(f"/cases/{case_id}/export/client-copy", {"format": "md"})
    assert "Thomas Bell" in md.get_data(as_text=True)
    with session_for(app) as db:
        assert len(db.scalars(select(AuditEvent).where(
            AuditEvent.action == "export.identifiable")).all()) == 3


def test_another_counsellors_case_is_404(app, counsellor):
    case_id = make_case(counsellor)
    other = invite_and_join(app, counsellor, "bea")
    for url in (f"/cases/{case_id}/export", f"/cases/{case_id}/export/review"):
        assert other.get(url).status_code == 404
    assert review_post(other, case_id).status_code == 404
    assert other.post(f"/cases/{case_id}/export/client-copy",
                      {"format": "md"}).status_code == 404


@pytest.mark.parametrize("fields", [{"format": "exe"}, {"format": ""}, {"hide": "x" * 5000}])
def test_malformed_review_posts_are_kind(counsellor, fields):
    case_id = make_case(counsellor)
    resp = review_post(counsellor, case_id, **fields)
    assert resp.status_code in (200, 400)


def pseudonym_of(app, case_id: str) -> str:
    from journal.models import Case

    with session_for(app) as db:
        return db.get(Case, case_id).pseudonym


def test_export_case_cli_writes_the_client_copy(app, counsellor, tmp_path):
    from conftest import PASSPHRASE

    case_id = make_case(counsellor)
    out = tmp_path / "copy.json"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-case", "--case", pseudonym_of(app, case_id),
                                 "--format", "json", "--out", str(out), "--login", "ada",
                                 "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["case"]["client_name"] == "Thomas Bell" and "note" not in data["sessions"][0]
    assert PASSPHRASE not in result.output

    wrong = runner.invoke(args=["export-case", "--case", pseudonym_of(app, case_id),
                                "--format", "md", "--out", str(tmp_path / "x.md"),
                                "--login", "ada", "--passphrase-stdin"], input="nope\n")
    assert wrong.exit_code == 1 and not (tmp_path / "x.md").exists()


def test_export_case_cli_refuses_another_counsellors_case(app, counsellor, tmp_path):
    from conftest import PASSPHRASE

    case_id = make_case(counsellor)
    invite_and_join(app, counsellor, "bea")
    result = app.test_cli_runner().invoke(args=[
        "export-case", "--case", pseudonym_of(app, case_id), "--format", "md",
        "--out", str(tmp_path / "x.md"), "--login", "bea", "--passphrase-stdin"],
        input=PASSPHRASE + "\n")
    assert result.exit_code == 1 and "No case" in result.output
    assert not (tmp_path / "x.md").exists()


def test_anonymise_cli_needs_no_setup_and_rejects_bad_input(tmp_path):
    from journal import create_app

    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    runner = app.test_cli_runner()
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps({"cases": [{"id": "1", "client": {"name": "Li Na"},
                                          "texts": ["Li Na felt calmer 🙂"]}]}))
    result = runner.invoke(args=["anonymise", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["cases"][0]["texts"] == ["[Client] felt calmer 🙂"]
    assert not (tmp_path / "instance" / "journal.db").exists()
    out.unlink()
    src.write_text('{"cases": [{"id": "1", "texts": "not a list"}]}')
    result = runner.invoke(args=["anonymise", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2 and "cases[0].texts" in result.output
    assert not out.exists()
