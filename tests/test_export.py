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
