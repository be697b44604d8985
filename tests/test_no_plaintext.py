"""DESIGN 3: a copy of the disk is noise. Clinical text entered through the UI, or seeded by
`seed-demo`, never appears in any file of instance/ — not in the database, not in its WAL.

Always SQLite, even when the rest of the suite runs on PostgreSQL: only SQLite keeps the
whole database in files we can read here.
"""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from journal import create_app, instance_secrets, migrate
from journal.db import engine_for, session_for
from journal.demo import load_cases
from journal.models import Case, OpenQuestion, Person, User
from journal.seed import DEMO_LOGIN, seed_demo

from conftest import (
    FAST_KDF,
    Browser,
    join_as_client,
    new_case,
    new_session,
    reflection_version,
    set_up_practice,
    sign_in,
    start_reflection,
)

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Every place a counsellor types clinical text, each with its own canary.
CANARIES = {
    "client_name": "Quillfeather Zanzibar",
    "preferred_name": "Zanzi Vellichor",
    "contact": "zanzibar.canary@example.org 07700 900461",
    "date_of_birth": "1911-02-03",
    "new_client_name": "Marigold Oxenthwaite",
    "new_contact": "金丝雀联系方式 quietly-canary",
    "person_name": "Hildebrand Pumpernickel",
    "person_relation": "Estranged godparent",
    "person_cjk_name": "王金丝雀",
    "person_cjk_relation": "舅舅的朋友",
    "person_new_name": "Perpetua Fandangle",
    "draft_subjective": "Draftcanary said she feels underwater",
    "draft_plan": "Draftplan canary walk by the canal",
    "signed_subjective": "Signedcanary spoke of the longest winter",
    "signed_objective": "Signedobjective canary tearful but warm",
    "signed_assessment": "来访者金丝雀感到非常孤独",
    "signed_plan": "Signedplan canary breathing practice",
    "amended_subjective": "Amendedcanary corrected detail about sister",
    "amend_reason": "Reasoncanary misheard the sister's town",
    "question": "What would Wednesdaycanary look like without fear?",
    "question_cjk": "金丝雀问题：你想要什么？",
    "outcome": "Outcomecanary she phoned her sister",
    "outcome_cjk": "结果金丝雀：她打了电话",
}


def _needles(text):
    """The encodings a leak could take: UTF-8, UTF-16 and JSON's ASCII escapes."""
    out = {text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")}
    escaped = json.dumps(text)[1:-1]
    if escaped != text:
        out.add(escaped.encode("ascii"))
    return out


def _files(folder):
    return {p.name: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def _leaks(folder, texts):
    files = _files(folder)
    return sorted({(name, text) for name, data in files.items() for text in texts
                   for needle in _needles(text) if needle in data})


def _sqlite_app(folder):
    """A fresh, migrated SQLite instance with secrets, like conftest's template_db."""
    folder.mkdir()
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'journal.db'}",
                      **FAST_KDF}, instance_path=str(folder))
    migrate.upgrade(app)
    instance_secrets.create_missing(str(folder), practice_has_users=False)
    return app


def _shown_back_but_never_on_disk(app, folder, pages: str, canaries: dict[str, str],
                                  also_absent: list[str] | None = None) -> None:
    """Every canary was really stored (the pages show it back), yet no file holds it —
    neither while connections are open (pages may sit in the WAL) nor after they close."""
    unescaped = pages.replace("&#39;", "'").replace("&#34;", '"')
    missing = [k for k, v in canaries.items() if v not in unescaped]
    assert not missing, f"not shown back: {missing}"

    texts = [*canaries.values(), *(also_absent or [])]
    files = _files(folder)
    assert "journal.db" in files
    assert files.get("journal.db-wal"), "expected an open SQLite WAL while the engine is live"
    assert _leaks(folder, texts) == []

    # The last connection closes: SQLite checkpoints the WAL into the main file.
    engine_for(app).dispose()
    assert _leaks(folder, texts) == []
    assert len(_files(folder)["journal.db"]) > 0


@pytest.fixture
def sqlite_app(tmp_path):
    app = _sqlite_app(tmp_path / "instance")
    yield app
    engine_for(app).dispose()


def _ok(resp):
    assert resp.status_code in (200, 302), (resp.status_code, resp.get_data(as_text=True))
    return resp


def _fill_case(app, browser):
    """Drive every clinical form once; returns the pages the counsellor then sees."""
    c = CANARIES
    case_id = new_case(browser, c["client_name"], preferred_name=c["preferred_name"],
                       date_of_birth=c["date_of_birth"], contact=c["contact"])
    first_profile = browser.get(f"/cases/{case_id}").get_data(as_text=True)
    dashboard_before = browser.get("/").get_data(as_text=True)
    assert _ok(browser.post(f"/cases/{case_id}/profile", {
        "name": c["new_client_name"], "preferred_name": c["preferred_name"],
        "date_of_birth": c["date_of_birth"], "contact": c["new_contact"],
    })).status_code == 302

    # People: two added, one renamed afterwards.
    for name, relation in ((c["person_name"], c["person_relation"]),
                           (c["person_cjk_name"], c["person_cjk_relation"])):
        assert _ok(browser.post(f"/cases/{case_id}/people",
                                {"name": name, "relation": relation})).status_code == 302
    people_before = browser.get(f"/cases/{case_id}/people").get_data(as_text=True)
    with session_for(app) as db:
        first_person = db.scalars(select(Person.id).where(Person.case_id == case_id)
                                  .order_by(Person.created_at)).first()
    assert _ok(browser.post(f"/cases/{case_id}/people/{first_person}", {
        "name": c["person_new_name"], "relation": c["person_relation"]})).status_code == 302

    # A note: drafted, signed, amended with a reason.
    session_id = new_session(browser, case_id)
    note_url = f"/cases/{case_id}/sessions/{session_id}/note"
    _ok(browser.post(f"{note_url}/start", {"template": "soap"}))
    assert _ok(browser.post(note_url, {
        "edit_version": "1", "action": "save", "section_subjective": c["draft_subjective"],
        "section_plan": c["draft_plan"]})).status_code == 302
    draft_page = browser.get(note_url).get_data(as_text=True)
    assert _ok(browser.post(note_url, {
        "edit_version": "2", "action": "sign", "confirm_sign": "y",
        "section_subjective": c["signed_subjective"],
        "section_objective": c["signed_objective"],
        "section_assessment": c["signed_assessment"], "section_plan": c["signed_plan"],
    })).status_code == 302
    assert _ok(browser.post(note_url, {
        "edit_version": "3", "action": "amend", "reason": c["amend_reason"],
        "section_subjective": c["amended_subjective"],
        "section_objective": c["signed_objective"],
        "section_assessment": c["signed_assessment"], "section_plan": c["signed_plan"],
    })).status_code == 302

    # Open questions, moved with outcomes.
    for text in (c["question"], c["question_cjk"]):
        assert _ok(browser.post(f"/cases/{case_id}/sessions/{session_id}/questions",
                                {"text": text})).status_code == 302
    with session_for(app) as db:
        question_ids = db.scalars(select(OpenQuestion.id).where(OpenQuestion.case_id == case_id)
                                  .order_by(OpenQuestion.created_at)).all()
    assert len(question_ids) == 2
    for question_id, outcome in zip(question_ids, (c["outcome"], c["outcome_cjk"]), strict=True):
        assert _ok(browser.post(f"/cases/{case_id}/questions/{question_id}/move", {
            "to_state": "answered", "outcome": outcome, "session_id": session_id,
        })).status_code == 302

    return "\n".join([
        first_profile, dashboard_before, draft_page, people_before,
        browser.get("/").get_data(as_text=True),
        browser.get(f"/cases/{case_id}").get_data(as_text=True),
        browser.get(f"/cases/{case_id}/profile").get_data(as_text=True),
        browser.get(f"/cases/{case_id}/people").get_data(as_text=True),
        browser.get(f"{note_url}/versions").get_data(as_text=True),
        browser.get(f"/cases/{case_id}/questions").get_data(as_text=True),
    ])


def test_no_clinical_text_in_instance_files(sqlite_app, tmp_path):
    folder = tmp_path / "instance"
    browser = Browser(sqlite_app.test_client())
    set_up_practice(sqlite_app, browser)
    pages = _fill_case(sqlite_app, browser)

    _shown_back_but_never_on_disk(sqlite_app, folder, pages, CANARIES)


def test_canary_search_would_find_a_leak(sqlite_app, tmp_path):
    """The search itself works: text stored in the clear (the practice name) is found."""
    folder = tmp_path / "instance"
    browser = Browser(sqlite_app.test_client())
    set_up_practice(sqlite_app, browser)
    assert _leaks(folder, ["Harbour Counselling"])
    engine_for(sqlite_app).dispose()
    assert _leaks(folder, ["Harbour Counselling"]) == [("journal.db", "Harbour Counselling")]
    assert _leaks(folder, ["港口", "Harbour Counselling!"]) == []


def _demo_strings():
    """Every distinctive text in cases.json: capitalised or spaced (>= 4 chars), CJK (any
    length, >= 6 bytes in UTF-8), e-mail addresses and dates of birth."""
    found = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            if CJK.search(value) or key == "date_of_birth" or (
                    len(value) >= 4 and (" " in value or value[0].isupper() or "@" in value)):
                found.add(value)

    walk(load_cases())
    return found


def test_demo_strings_cover_the_demo():
    strings = _demo_strings()
    assert len(strings) > 80
    assert {"Daniel Hartley", "Wife", "Mother", "王浩然", "妻子", "1986-03-14",
            "dan.hartley@example.org"} <= strings


def test_seed_demo_leaves_no_demo_text_on_disk(tmp_path):
    folder = tmp_path / "instance"
    app = _sqlite_app(folder)
    try:
        lines = []
        seed_demo(app, lines.append)
        output = "\n".join(lines)
        assert DEMO_LOGIN in output
        passphrase = re.search(r"passphrase:\s+(\S+)", output).group(1)
        with session_for(app) as db:
            assert db.scalar(select(func.count()).select_from(Case)) == len(load_cases()) == 3
            # The demo counsellor and one client per case.
            assert db.scalar(select(func.count()).select_from(User)) == 4

        strings = _demo_strings()
        assert _leaks(folder, strings) == []

        # The demo really holds those texts: the demo counsellor reads them.
        browser = Browser(app.test_client())
        assert sign_in(browser, DEMO_LOGIN, passphrase).status_code == 302
        backup = re.search(r"backup codes:\n  (\S+)", output).group(1)
        assert browser.post("/login/two-factor", {"code": backup}).status_code == 302
        dashboard = browser.get("/").get_data(as_text=True)
        for case in load_cases():
            assert case["client"]["name"] in dashboard

        assert _leaks(folder, strings) == []
    finally:
        engine_for(app).dispose()
    assert _leaks(folder, strings) == []


# --- the client's side ------------------------------------------------------------------------

CLIENT_LOGIN = "canary-login-name"
# Everything a client writes, each with its own canary: drafts, autosaves, shared text,
# answers to open questions, and an amendment.
REFLECTION_CANARIES = {
    "draft_stood_out": "Draftreflection canary about the allotment shed",
    "draft_helped": "下雨天金丝雀帮助了我",
    "autosaved_hard": "Autosavecanary the night bus home",
    "shared_stood_out": "Sharedcanary the quiet morning swim",
    "shared_for_counsellor": "Forcounsellorcanary please ask about June",
    "answer": "Answercanary saying no felt like breathing",
    "amended": "Amendedcanary I remembered more about June",
}


def _client_writes(app, counsellor):
    """A client joins and writes through every path; returns what both sides then see."""
    c = REFLECTION_CANARIES
    case_id = new_case(counsellor, "Plain Name")
    session_id = new_session(counsellor, case_id)
    _ok(counsellor.post(f"/cases/{case_id}/sessions/{session_id}/questions",
                        {"text": "What would it be like to say no?"}))
    with session_for(app) as db:
        question_id = db.scalar(select(OpenQuestion.id))
    client = join_as_client(app, counsellor, case_id, CLIENT_LOGIN)

    def post(reflection_id, action=None, **fields):
        url = f"/portal/reflections/{reflection_id}"
        data = {"edit_version": reflection_version(client, reflection_id),
                "week_rating_skip": "1", "session_rating_skip": "1", **fields}
        if action is None:
            return _ok(client.post(url + "/autosave", data))
        return _ok(client.post(url, {**data, "action": action}))

    # A draft: autosaved, then saved without JavaScript. It is never shared.
    draft_id = start_reflection(client)
    post(draft_id, stood_out=c["draft_stood_out"], helped=c["draft_helped"])
    post(draft_id, "save", stood_out=c["draft_stood_out"], helped=c["draft_helped"],
         hard=c["autosaved_hard"])
    # A shared reflection that answers the question, read, amended and shared again.
    shared_id = start_reflection(client)
    post(shared_id, stood_out=c["shared_stood_out"])
    post(shared_id, "share", stood_out=c["shared_stood_out"],
         for_counsellor=c["shared_for_counsellor"], **{f"answer_{question_id}": c["answer"]})
    first_read = counsellor.get(f"/cases/{case_id}/reflections/{shared_id}").get_data(
        as_text=True)
    _ok(client.post(f"/portal/reflections/{shared_id}/amend"))
    post(shared_id, "share", stood_out=c["shared_stood_out"], for_counsellor=c["amended"],
         **{f"answer_{question_id}": c["answer"]})
    return "\n".join([
        first_read,
        counsellor.get(f"/cases/{case_id}/reflections/{shared_id}").get_data(as_text=True),
        counsellor.get(f"/cases/{case_id}/brief").get_data(as_text=True),
        client.get(f"/portal/reflections/{draft_id}").get_data(as_text=True),
        client.get("/portal/").get_data(as_text=True),
    ])


def test_no_reflection_text_in_instance_files(sqlite_app, tmp_path):
    folder = tmp_path / "instance"
    counsellor = Browser(sqlite_app.test_client())
    set_up_practice(sqlite_app, counsellor)
    pages = _client_writes(sqlite_app, counsellor)

    _shown_back_but_never_on_disk(sqlite_app, folder, pages, REFLECTION_CANARIES,
                                  also_absent=[CLIENT_LOGIN])


def test_a_client_login_name_is_stored_only_as_an_hmac(sqlite_app, tmp_path):
    folder = tmp_path / "instance"
    counsellor = Browser(sqlite_app.test_client())
    set_up_practice(sqlite_app, counsellor)
    case_id = new_case(counsellor, "Plain Name")
    client = join_as_client(sqlite_app, counsellor, case_id, CLIENT_LOGIN)
    assert client.get("/portal/").status_code == 200
    # The name works for signing in, and appears nowhere on disk.
    assert sign_in(Browser(sqlite_app.test_client()), CLIENT_LOGIN).status_code == 302
    with session_for(sqlite_app) as db:
        assert db.scalar(select(User.login_name).where(User.role == "client")) is None
    assert _leaks(folder, [CLIENT_LOGIN]) == []
    engine_for(sqlite_app).dispose()
    assert _leaks(folder, [CLIENT_LOGIN]) == []
    # The counsellor's own login name is not clinical and is stored in the clear.
    assert _leaks(folder, ["ada"]) != []
