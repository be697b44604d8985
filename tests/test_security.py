"""Safe by default (DESIGN 3, "Around it"): login required except a short allow-list, CSRF on
every POST, strict headers on every response, kind error pages, 404 for ids that are not
yours, and GET requests that change nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from werkzeug.routing import Rule

from journal.db import Base, engine_for, session_for
from journal.security import PUBLIC_ENDPOINTS

from conftest import (
    Browser,
    invite_and_join,
    join_as_client,
    make_app,
    new_case,
    new_session,
    set_up_practice,
    share_reflection,
)

EXPECTED_PUBLIC = {"static", "health", "auth.login", "auth.setup", "auth.join",
                   "auth.join_submit", "auth.recover", "portal.invite", "portal.invite_submit",
                   "portal.resume"}
TYPED = "Words typed before the page went stale"
SECRETS = {"passphrase": "never echo this passphrase", "current": "never echo the current one",
           "confirm": "never echo the confirmation", "recovery_code": "NEVR-ECHO-CODE",
           "secret": "never-echo-the-invitation-secret"}


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def location(resp: Any) -> str:
    return resp.headers.get("Location", "")


def rules(app: Flask, method: str) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules()
                   if method in (r.methods or ()) and r.endpoint != "static"),
                  key=lambda r: r.rule)


def urls(app: Flask, rule: Rule, ids: dict[str, str]) -> list[str]:
    """The rule with real ids; a reflection route also with the client's unshared draft."""
    found = [build(app, rule, ids)]
    if "reflection_id" in rule.arguments:
        found.append(build(app, rule, {**ids, "reflection_id": ids["draft_id"]}))
    return found


def build(app: Flask, rule: Rule, ids: dict[str, str], default: str | None = None) -> str:
    """The rule's URL with its parameters filled from ids (or default, or a random uuid)."""
    values = {arg: ids.get(arg, default or str(uuid.uuid4())) for arg in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


# What a GET may write (DESIGN 3): last_seen, the audit log and, when a counsellor opens a
# reflection, its read receipt. Nothing else. ("table", "*") allows a whole table.
LAST_SEEN = frozenset({("web_sessions", "last_seen")})
GET_WRITES = LAST_SEEN | {("audit_events", "*"), ("audit_head", "*")}
READ_RECEIPTS = GET_WRITES | {("reflection_versions", "read_at")}


def snapshot(app: Flask, allowed: frozenset[tuple[str, str]] = LAST_SEEN
             ) -> dict[str, list[str]]:
    """Every row of every table, except the (table, column) pairs that may change."""
    state: dict[str, list[str]] = {}
    with engine_for(app).connect() as conn:
        for table in Base.metadata.sorted_tables:
            if (table.name, "*") in allowed:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in allowed]
            rows = conn.execute(select(*columns)).all()
            state[table.name] = sorted(repr(tuple(row)) for row in rows)
    return state


def counts(state: dict[str, list[str]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in state.items()}


def populate(browser: Browser, name: str = "Robin Example") -> dict[str, str]:
    """A case with a session, a started note, a person and an open question, made in the UI."""
    case_id = new_case(browser, name)
    session_id = new_session(browser, case_id)
    assert browser.post(f"/cases/{case_id}/sessions/{session_id}/note/start",
                        {"template": "narrative"}).status_code == 302
    assert browser.post(f"/cases/{case_id}/people",
                        {"name": "Sam", "relation": "brother"}).status_code == 302
    people = text_of(browser.get(f"/cases/{case_id}/people"))
    person_id = re.findall(rf"/cases/{case_id}/people/([0-9a-f-]{{36}})", people)[0]
    assert browser.post(f"/cases/{case_id}/sessions/{session_id}/questions",
                        {"text": "What would rest look like?"}).status_code == 302
    page = text_of(browser.get(f"/cases/{case_id}/sessions/{session_id}"))
    question_id = re.findall(r'id="q-([0-9a-f-]{36})"', page)[0]
    return {"case_id": case_id, "session_id": session_id, "person_id": person_id,
            "question_id": question_id}


def invitation_id(admin: Browser) -> str:
    page = text_of(admin.post("/practice/invitations"))
    return re.findall(r"/practice/invitations/([0-9a-f-]{36})/revoke", page)[-1]


@pytest.fixture
def world(app: Flask, counsellor: Browser) -> tuple[dict[str, str], Browser]:
    """Real ids of everything the signed-in admin counsellor 'ada' owns, and her case's client
    (signed in), who shared a reflection (reflection_id) and keeps a draft (draft_id)."""
    owned = populate(counsellor)
    client = join_as_client(app, counsellor, owned["case_id"], "robin")
    owned["reflection_id"] = share_reflection(client)
    draft = client.post("/portal/reflections/new")
    assert draft.status_code == 302
    owned["draft_id"] = location(draft).rstrip("/").rsplit("/", 1)[1]
    return {**owned, "invitation_id": invitation_id(counsellor)}, client


@pytest.fixture
def ids(world: tuple[dict[str, str], Browser]) -> dict[str, str]:
    return world[0]


@pytest.fixture
def client(world: tuple[dict[str, str], Browser]) -> Browser:
    """The signed-in client of ada's case."""
    return world[1]


def unread(app: Flask) -> int:
    with engine_for(app).connect() as conn:
        versions = Base.metadata.tables["reflection_versions"]
        return len(conn.execute(select(versions.c.id).where(
            versions.c.scope == "shared", versions.c.read_at.is_(None))).all())


# --- login required by default ----------------------------------------------------------------


def test_the_allow_list_is_exactly_this_short_list(app):
    assert set(PUBLIC_ENDPOINTS) == EXPECTED_PUBLIC
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert EXPECTED_PUBLIC <= endpoints


def test_every_other_endpoint_needs_sign_in(app, ids):
    anonymous = Browser(app.test_client())
    anonymous.token()
    before = snapshot(app)
    checked = set()
    for method in ("GET", "POST"):
        for rule in rules(app, method):
            if rule.endpoint in EXPECTED_PUBLIC:
                continue
            for url in {build(app, rule, {}), *urls(app, rule, ids)}:
                resp = anonymous.get(url) if method == "GET" else anonymous.post(
                    url, {"x": "y", "stood_out": TYPED, "edit_version": "2",
                          "action": "share"})
                if resp.status_code == 302:
                    assert location(resp).split("?")[0] == "/login", (method, url)
                else:
                    # 401: a POST after sign-out gets a kind page that keeps what was typed.
                    allowed = {404, 405} | ({401} if method == "POST" else set())
                    assert resp.status_code in allowed, (method, url, resp.status_code)
                assert 'id="recovery-code"' not in text_of(resp)
                assert "A calmer week" not in text_of(resp)
                checked.add(rule.endpoint)
    assert {"cases.dashboard", "cases.case", "auth.account", "practice.admin",
            "cases.save_note", "auth.logout", "cases.reflection", "portal.home",
            "portal.reflection", "portal.autosave", "portal.amend_reflection"} <= checked
    assert snapshot(app) == before


def test_public_pages_answer_without_sign_in(app, browser):
    set_up_practice(app, browser)
    anonymous = Browser(app.test_client())
    for url in ("/login", "/join", "/recover", "/health", "/static/css/journal.css"):
        with anonymous.get(url) as resp:
            assert resp.status_code == 200, url


# --- CSRF -------------------------------------------------------------------------------------


def test_every_post_without_csrf_token_is_refused_kindly(app, counsellor, client, ids):
    before = snapshot(app)
    post_rules = rules(app, "POST")
    assert len(post_rules) >= 10
    posted = 0
    for who, browser in (("counsellor", counsellor), ("client", client)):
        for rule in post_rules:
            for url in urls(app, rule, ids):
                resp = browser.post(url, {"name": TYPED, "text": TYPED, "stood_out": TYPED,
                                          "edit_version": "3", "action": "share", **SECRETS},
                                    csrf=False)
                page = text_of(resp)
                assert resp.status_code == 400, (who, url, resp.status_code)
                assert "gone stale" in page, (who, url)
                assert TYPED in page, (who, url)
                for secret in SECRETS.values():
                    assert secret not in page, (who, url, secret)
                assert not re.search(r">\s*passphrase\s*<", page), (who, url)
                posted += 1
    assert posted > 2 * len(post_rules)
    assert snapshot(app) == before
    # Still signed in: a refused sign-out or "sign out everywhere" did nothing.
    assert counsellor.get("/").status_code == 200
    assert client.get("/portal/").status_code == 200


def test_a_wrong_csrf_token_is_refused_too(app, counsellor):
    resp = counsellor.post("/cases/new", {"name": TYPED, "csrf_token": "forged"})
    assert resp.status_code == 400 and "gone stale" in text_of(resp)
    other = Browser(app.test_client())
    resp = counsellor.post("/cases/new", {"name": TYPED, "csrf_token": other.token()})
    assert resp.status_code == 400


def test_no_configuration_turns_the_csrf_check_off(tmp_path, template_db):
    # The reflection and note saves bind no form to check the token again: CSRFProtect's
    # check of every POST is all there is, so an instance config cannot switch it off.
    app = make_app(tmp_path, template_db, WTF_CSRF_ENABLED=False, WTF_CSRF_CHECK_DEFAULT=False)
    try:
        assert app.config["WTF_CSRF_ENABLED"] and app.config["WTF_CSRF_CHECK_DEFAULT"]
        resp = app.test_client().post("/login", data={"login_name": "ada"})
        assert resp.status_code == 400 and "gone stale" in text_of(resp)
    finally:
        engine_for(app).dispose()


# --- headers ----------------------------------------------------------------------------------


def assert_secure_headers(resp: Any, what: str, https: bool = False) -> None:
    headers = resp.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, what
    assert "default-src 'self'" in csp and "object-src 'none'" in csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", what
    if resp.mimetype == "text/html":
        assert "no-store" in headers.get("Cache-Control", ""), what
    if https:
        assert headers.get("Strict-Transport-Security", "").startswith("max-age="), what
    else:
        assert "Strict-Transport-Security" not in headers, what


def test_security_headers_on_every_kind_of_response(app, counsellor, ids):
    anonymous = Browser(app.test_client())
    responses = {
        "dashboard": counsellor.get("/"),
        "case": counsellor.get(f"/cases/{ids['case_id']}"),
        "redirect": anonymous.get("/"),
        "login": anonymous.get("/login"),
        "404": counsellor.get("/cases/nope"),
        "404 unknown path": anonymous.get("/no/such/page"),
        "400": counsellor.post("/cases/new", {"name": TYPED}, csrf=False),
        "405": counsellor.get("/logout"),
        "413": counsellor.post("/cases/new", {"name": "x" * (600 * 1024)}),
        "post redirect": counsellor.post("/cases/new", {"name": "Kim"}),
        "health": anonymous.get("/health"),
        "static": anonymous.get("/static/css/journal.css"),
    }
    assert responses["400"].status_code == 400
    assert responses["405"].status_code == 405
    assert responses["413"].status_code == 413
    assert responses["post redirect"].status_code == 302
    for what, resp in responses.items():
        assert_secure_headers(resp, what)
    for what in ("dashboard", "login", "404", "400", "413"):
        assert responses[what].mimetype == "text/html", what
        assert "no-store" in responses[what].headers["Cache-Control"], what
    for resp in responses.values():
        resp.close()


def test_hsts_only_over_https(app, counsellor):
    https = app.test_client()
    for url in ("/login", "/", "/nope", "/health"):
        assert_secure_headers(https.get(url, base_url="https://localhost"), url, https=True)
        assert_secure_headers(counsellor.get(url), url, https=False)


def test_pages_need_no_inline_script_or_style(app, counsellor, client, ids):
    """The CSP forbids inline code, so no page may rely on it."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.I)
    for browser in (counsellor, client):
        for rule in rules(app, "GET"):
            for url in urls(app, rule, ids):
                page = text_of(browser.get(url))
                assert not inline.search(page), url


# --- sizes and ids ----------------------------------------------------------------------------


def test_an_oversized_body_gets_a_kind_413(app, counsellor):
    body = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = counsellor.post("/cases/new", {"name": body})
    page = text_of(resp)
    assert resp.status_code == 413
    assert "more than we can take" in page
    assert "xxxxxxxxxx" not in page
    assert counsellor.get("/").status_code == 200


MALFORMED = ("garbage", "x" * 500, "\x00", "0" * 36, "1;DROP TABLE cases", "ü" * 40, "%",
             "00000000-0000-0000-0000-000000000000")


def test_malformed_ids_are_404(app, counsellor, ids):
    for method in ("GET", "POST"):
        for rule in rules(app, method):
            if not rule.arguments:
                continue
            for bad in MALFORMED:
                urls = {build(app, rule, {}, default=bad)}
                if "case_id" in rule.arguments and len(rule.arguments) > 1:
                    urls.add(build(app, rule, {"case_id": ids["case_id"]}, default=bad))
                for url in urls:
                    resp = (counsellor.get(url) if method == "GET"
                            else counsellor.post(url, {"session_id": bad}))
                    assert resp.status_code == 404, (method, url, resp.status_code)
                    assert "find that page" in text_of(resp)


def test_another_counsellors_ids_are_404(app, counsellor, ids):
    bea = invite_and_join(app, counsellor, "bea")
    theirs = populate(bea, "Bea's Client")
    before = snapshot(app)
    for method in ("GET", "POST"):
        for rule in rules(app, method):
            if "case_id" not in rule.arguments:
                continue
            variants = [theirs]
            # Mixed: ada's own case with bea's session, person or question.
            if len(rule.arguments) > 1:
                variants.append({**theirs, "case_id": ids["case_id"]})
            for values in variants:
                url = build(app, rule, values)
                resp = (counsellor.get(url) if method == "GET" else counsellor.post(
                    url, {"name": "Mallory", "text": "x", "pseudonym": "C-AAAA",
                          "session_id": theirs["session_id"], "to_state": "parked",
                          "held_on": "2026-01-01", "duration_minutes": "50",
                          "attendance": "attended"}))
                assert resp.status_code == 404, (method, url, resp.status_code)
                assert "Bea&#39;s Client" not in text_of(resp)
    assert snapshot(app) == before
    # Bea still sees her case; ada's dashboard does not list it.
    assert "Bea&#39;s Client" in text_of(bea.get("/"))
    assert "Bea&#39;s Client" not in text_of(counsellor.get("/"))


# --- GET changes nothing ----------------------------------------------------------------------


def test_no_get_changes_the_database(app, counsellor, client, ids):
    extra = ["/?closed=1", "/?page=2", f"/cases/{ids['case_id']}?page=2", "/nope",
             "/static/css/journal.css", "/setup", "/join", "/recover", "/portal/invite"]
    walk = [url for rule in rules(app, "GET") for url in urls(app, rule, ids)] + extra
    assert any("/note/versions" in url for url in walk)
    assert f"/cases/{ids['case_id']}/reflections/{ids['reflection_id']}" in walk
    assert f"/portal/reflections/{ids['draft_id']}" in walk

    def walk_changes_only(browser: Browser, allowed: frozenset[tuple[str, str]]) -> None:
        before = snapshot(app, allowed)
        for url in walk:
            with browser.get(url) as resp:
                assert resp.status_code in (200, 302, 404), (url, resp.status_code)
        after = snapshot(app, allowed)
        assert counts(after) == counts(before)
        assert after == before

    # The client first: no read receipt, nothing but last_seen and the audit log.
    walk_changes_only(client, GET_WRITES)
    assert unread(app) == 1

    # The counsellor: the reflection they open gets its read receipt, and that is all.
    walk_changes_only(counsellor, READ_RECEIPTS)
    assert unread(app) == 0


# --- 500 --------------------------------------------------------------------------------------


@pytest.fixture
def fragile_app(tmp_path: Any, template_db: str | None) -> Iterator[Flask]:
    """An app that renders its 500 page (as in production) and has a route that fails."""
    app = make_app(tmp_path, template_db, RENDER_SERVER_ERRORS=True)

    @app.route("/boom", methods=["GET", "POST"])
    def boom() -> str:
        raise RuntimeError("internal detail 8f3a: SELECT secret FROM notes")

    yield app
    engine_for(app).dispose()


def test_a_server_error_is_kind_and_reveals_nothing(fragile_app, caplog):
    browser = Browser(fragile_app.test_client())
    set_up_practice(fragile_app, browser)
    # A new route is private until someone adds it to the allow-list.
    assert location(Browser(fragile_app.test_client()).get("/boom")).startswith("/login")
    for resp in (browser.get("/boom"),
                 browser.post("/boom", {"text": "A private reflection", "passphrase": "pw"})):
        page = text_of(resp)
        assert resp.status_code == 500
        assert "Something went wrong on our side" in page
        for leak in ("Traceback", "RuntimeError", "8f3a", "SELECT", "File \"", "pw\""):
            assert leak not in page
        assert_secure_headers(resp, "500")
    # The log names the error and the endpoint, never what was typed.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert "A private reflection" not in logged
    # The app still works after the error.
    assert browser.get("/").status_code == 200
    with session_for(fragile_app) as db:
        assert db.scalar(select(Base.metadata.tables["users"].c.login_name)) == "ada"


def test_the_csrf_cookie_is_named_for_what_it_holds(app):
    """Flask's own cookie holds the CSRF token and flashes only; it is HttpOnly and Strict."""
    resp = app.test_client().get("/setup")
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("journal_csrf=")]
    assert cookies, resp.headers.getlist("Set-Cookie")
    assert "HttpOnly" in cookies[0] and "SameSite=Strict" in cookies[0]
    assert not any(c.startswith("session=") for c in resp.headers.getlist("Set-Cookie"))


def test_a_forms_csrf_token_is_signed_only_when_a_page_shows_it(app):
    """A form that is only read (a save that redirects) costs no token; one that is shown
    carries a token that CSRFProtect accepts."""
    from flask import g
    from flask_wtf.csrf import validate_csrf

    from journal.cases.forms import PersonForm

    with app.test_request_context("/", method="POST", data={"name": "Sam"}):
        form = PersonForm()
        assert form.name.data == "Sam" and "csrf_token" not in g  # nothing signed yet
        shown = str(form.csrf_token())
        token = re.search(r'value="([^"]+)"', shown).group(1)
        assert "csrf_token" in g and token == g.csrf_token
        validate_csrf(token)  # raises if the token is not a valid one for this session
        assert str(form.csrf_token()) == shown  # the same token however often it is shown


def test_values_holding_keys_or_secrets_print_without_them():
    # An error reporter or a careless log line prints these objects: their secrets stay out.
    from journal import crypto
    from journal.auth.service import KdfSettings, NewAccount, Unlocked
    from journal.auth.two_factor import Enrolment
    from journal.auth.web_sessions import SignedIn
    from journal.instance_secrets import Secrets
    from journal.keyring import SessionCopies

    marker = "Zq8Marker"
    raw = marker.encode()
    printed = [
        Unlocked(user=None, private_key=raw),
        NewAccount(user=None, private_key=raw, recovery_code=marker),
        KdfSettings(crypto.KdfParams(1024, 1, 1), True, raw),
        SessionCopies("session-id", raw),
        crypto.PassphraseKeys(raw, raw),
        Enrolment(marker, f"otpauth://totp/x?secret={marker}"),
        SignedIn(session_id="s", user=None, private_key=raw, session_key=raw,
                 second_factor_pending=False),
        Secrets(raw, raw, raw),
    ]
    for value in printed:
        assert marker not in repr(value), type(value).__name__
        assert marker not in str(value), type(value).__name__


def test_over_tls_the_csrf_cookie_is_pinned_to_this_host(app):
    # `__Host-`: the browser takes it only from this host, Secure, for path /, so no sibling
    # subdomain can plant a CSRF token it knows. The token still works from that cookie.
    client = app.test_client()
    resp = client.get("/setup", base_url="https://journal.example.org")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if "journal_csrf=" in c)
    assert cookie.startswith("__Host-journal_csrf=")
    assert "Secure" in cookie and "Path=/;" in cookie + ";" and "Domain" not in cookie
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      resp.get_data(as_text=True)).group(1)
    resp = client.post("/setup", data={"csrf_token": token, "setup_code": "not-a-code"},
                       base_url="https://journal.example.org")
    assert "gone stale" not in resp.get_data(as_text=True)  # the code is wrong, the form fine
    resp = client.post("/setup", data={"setup_code": "not-a-code"},
                       base_url="https://journal.example.org")
    assert "gone stale" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("base_url", "name", "secure"), [
    ("https://journal.example.org", "__Host-journal_csrf", True),
    ("http://journal.example.org", "journal_csrf", True),  # not loopback: Secure all the same
    ("http://127.0.0.1", "journal_csrf", False),  # the documented local mode for load tools
])
def test_the_csrf_cookie_follows_the_sign_in_cookies_rules_whatever_the_config(
        tmp_path, template_db, base_url, name, secure):
    # Secure off is honoured on loopback only, and a configured domain or path cannot make
    # the browser refuse the cookie (a `__Host-` cookie with a Domain is dropped).
    app = make_app(tmp_path, template_db, COOKIE_SECURE=False,
                   SESSION_COOKIE_DOMAIN="example.org", SESSION_COOKIE_PATH="/journal")
    try:
        resp = app.test_client().get("/setup", base_url=base_url)
        cookie = next(c for c in resp.headers.getlist("Set-Cookie") if "journal_csrf=" in c)
        assert cookie.startswith(f"{name}=")
        assert ("; Secure" in cookie) is secure
        assert "Path=/;" in cookie + ";" and "Domain" not in cookie
    finally:
        engine_for(app).dispose()
