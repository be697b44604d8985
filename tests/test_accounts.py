"""Accounts and sign-in (DESIGN 3.5, 3.8): set-up, passphrase policy, cookies, no user
enumeration, server-side sessions and their timeouts, passphrase change, recovery codes,
counsellor invitations and safe redirects after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

import journal.crypto
from journal.db import session_for
from journal.models import CounsellorInvitation, Practice, User, WebSession, utcnow

from conftest import (
    PASSPHRASE,
    Browser,
    invite_and_join,
    new_case,
    set_up_practice,
    setup_code,
    sign_in,
)

NEW_PASSPHRASE = "lanterns over a sleeping valley"
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")')


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def without_csrf(page: str) -> str:
    return _CSRF_VALUE.sub(r"\1-\2", page)


def location(resp: Any) -> str:
    return resp.headers.get("Location", "")


def redirects_to_login(resp: Any) -> bool:
    return resp.status_code == 302 and location(resp).split("?")[0] == "/login"


def session_rows(app: Flask, login: str | None = None) -> list[WebSession]:
    with session_for(app) as db:
        query = select(WebSession)
        if login is not None:
            query = query.join(User, User.id == WebSession.user_id).where(
                User.login_name == login)
        return list(db.scalars(query).all())


def user_named(app: Flask, login: str) -> User:
    with session_for(app) as db:
        return db.scalars(select(User).where(User.login_name == login)).one()


def count_users(app: Flask) -> int:
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(User))


def cookie(browser: Browser, name: str = "journal") -> str | None:
    found = browser.client.get_cookie(name)
    return found.value if found is not None else None


def set_cookie_header(resp: Any, name: str) -> str:
    headers = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, resp.headers.getlist("Set-Cookie")
    return headers[0]


def shown_recovery_code(resp: Any) -> str:
    match = re.search(r'id="recovery-code">([^<]+)<', text_of(resp))
    assert match, text_of(resp)
    return match.group(1)


def error_of(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert match, f"no error shown for {field}"
    return match.group(1)


def new_browser(app: Flask) -> Browser:
    return Browser(app.test_client())


# --- set-up -----------------------------------------------------------------------------------


def test_empty_practice_leads_everything_to_setup(browser):
    for url in ("/", "/login", "/cases/new", "/account", "/recover", "/join"):
        resp = browser.get(url)
        assert resp.status_code == 302, url
        assert location(resp) == "/setup", url
    assert browser.get("/setup").status_code == 200
    assert browser.get("/health").status_code == 200


def test_wrong_setup_code_is_refused_and_keeps_what_was_typed(app, browser):
    setup_code(app)
    resp = browser.post("/setup", {
        "setup_code": "00000-00000-00000-00000", "practice_name": "Willow Room Practice",
        "login_name": "grace", "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    page = text_of(resp)
    assert resp.status_code == 200
    assert "does not match the one printed in the terminal" in error_of(page, "setup_code")
    assert 'value="Willow Room Practice"' in page
    assert 'value="grace"' in page
    assert PASSPHRASE not in page
    assert count_users(app) == 0
    assert browser.get("/").headers["Location"] == "/setup"


def test_setup_creates_the_admin_and_shows_the_recovery_code_once(app, browser):
    resp = browser.post("/setup", {
        "setup_code": setup_code(app), "practice_name": "Harbour  Counselling",
        "login_name": "ada", "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert resp.status_code == 200
    code = shown_recovery_code(resp)
    assert len(code.replace("-", "")) >= 26  # >= 128 bits of base32
    assert "nobody" in text_of(resp).lower()  # says plainly that a lost code means lost notes
    admin = user_named(app, "ada")
    assert admin.is_admin and admin.is_counsellor and not admin.recovery_confirmed
    with session_for(app) as db:
        assert db.get(Practice, 1).name == "Harbour Counselling"
    # Never shown again: not on the page that asks to confirm, nor anywhere after.
    assert code not in text_of(browser.get("/account/recovery-code"))
    assert browser.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    for url in ("/", "/account", "/account/recovery-code"):
        page = browser.get(url)
        assert page.status_code == 200, url
        assert code not in text_of(page), url
    assert "Harbour Counselling" in text_of(browser.get("/practice/"))
    # Set-up happens once.
    assert location(new_browser(app).get("/setup")) == "/login"
    assert location(browser.get("/setup")) == "/login"


def test_setup_code_works_once(app, browser):
    code = setup_code(app)
    form = {"setup_code": code, "practice_name": "Harbour", "login_name": "ada",
            "passphrase": PASSPHRASE, "confirm": PASSPHRASE}
    assert browser.post("/setup", form).status_code == 200
    other = new_browser(app)
    resp = other.post("/setup", {**form, "login_name": "mallory"})
    assert redirects_to_login(resp)
    assert count_users(app) == 1


@pytest.mark.parametrize(("passphrase", "confirm", "message"), [
    ("x7#kq9!mz2w", None, "at least 12 characters"),
    ("q" * 64 + "r" * 65, None, "128 characters or fewer"),
    ("passwordpassword", None, "common passwords"),
    ("correct horse battery staple", None, "common passwords"),
    ("Correct Horse Battery Staple", None, "common passwords"),
    (PASSPHRASE, PASSPHRASE + "!", "two entries are different"),
])
def test_passphrase_policy_refuses_kindly(app, browser, passphrase, confirm, message):
    resp = browser.post("/setup", {
        "setup_code": setup_code(app), "practice_name": "Harbour", "login_name": "grace",
        "passphrase": passphrase, "confirm": confirm or passphrase})
    page = text_of(resp)
    assert resp.status_code == 200
    assert message in error_of(page, "passphrase")
    assert 'value="grace"' in page
    assert passphrase not in page
    assert count_users(app) == 0


@pytest.mark.parametrize("length", [12, 128])
def test_passphrase_policy_accepts_the_limits(app, browser, length):
    passphrase = ("ember tide fern quill " * 10)[:length]
    assert len(passphrase) == length
    code = set_up_practice(app, browser, login="grace", passphrase=passphrase)
    assert code
    assert sign_in(new_browser(app), "grace", passphrase).status_code == 302


def test_recovery_code_must_be_confirmed_before_anything_else(app, browser):
    resp = browser.post("/setup", {
        "setup_code": setup_code(app), "practice_name": "Harbour", "login_name": "ada",
        "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert resp.status_code == 200
    for url in ("/", "/cases/new", "/account", "/practice/"):
        assert location(browser.get(url)) == "/account/recovery-code", url
    assert location(browser.post("/cases/new", {"name": "Robin"})) == "/account/recovery-code"
    # Not ticking the box is not confirming.
    assert browser.post("/account/recovery-code/confirm", {}).status_code == 400
    assert location(browser.get("/")) == "/account/recovery-code"
    # Signing in again does not skip it.
    other = new_browser(app)
    assert sign_in(other, "ada").status_code == 302
    assert location(other.get("/")) == "/account/recovery-code"
    assert browser.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    assert browser.get("/").status_code == 200
    assert other.get("/").status_code == 200


# --- the sign-in cookie -----------------------------------------------------------------------


def test_login_cookie_is_httponly_strict_and_secure(app, counsellor):
    browser = new_browser(app)
    resp = sign_in(browser, "ada")
    assert resp.status_code == 302
    header = set_cookie_header(resp, "journal")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in header
    assert "Path=/" in header
    assert "Expires" not in header and "Max-Age" not in header  # no remember-me
    # Flask's signed session cookie (it carries only the CSRF secret) never holds identity.
    for other in resp.headers.getlist("Set-Cookie"):
        assert not other.startswith("__Host-journal=")


def test_login_cookie_over_https_has_the_host_prefix(app, counsellor):
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    page = text_of(client.get("/login", **https))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"login_name": "ada", "passphrase": PASSPHRASE,
                                       "csrf_token": token}, **https)
    assert resp.status_code == 302
    header = set_cookie_header(resp, "__Host-journal")
    assert "; Secure" in header and "; HttpOnly" in header and "; Path=/" in header
    assert "SameSite=Strict" in header
    assert "Domain=" not in header  # the __Host- prefix forbids it
    assert not [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("journal=")]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert client.get("/", **https).status_code == 200


# --- no user enumeration ----------------------------------------------------------------------


def test_unknown_user_and_wrong_passphrase_look_and_cost_the_same(app, browser, monkeypatch):
    set_up_practice(app, browser, login="margaret")
    real = journal.crypto.derive_passphrase_keys
    calls: list[Any] = []

    def counting(passphrase: str, salt: bytes, params: Any) -> Any:
        calls.append(params)
        return real(passphrase, salt, params)

    monkeypatch.setattr(journal.crypto, "derive_passphrase_keys", counting)

    def attempt(login: str) -> tuple[int, str, int]:
        before = len(calls)
        resp = sign_in(new_browser(app), login, "not the right words at all")
        body = without_csrf(text_of(resp)).replace(f'value="{login}"', 'value="LOGIN"')
        assert not [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("journal=")]
        return resp.status_code, body, len(calls) - before

    wrong_status, wrong_body, wrong_kdf = attempt("margaret")
    unknown_status, unknown_body, unknown_kdf = attempt("marguerite")
    assert wrong_status == unknown_status == 200
    assert wrong_body == unknown_body
    assert "don&#39;t match" in wrong_body or "don't match" in wrong_body
    assert wrong_kdf == unknown_kdf == 1
    assert calls[-1] == calls[-2]  # the same Argon2id cost for both


# --- the session row is the identity ----------------------------------------------------------


def test_logout_deletes_the_row_and_an_old_cookie_is_useless(app, counsellor):
    old = cookie(counsellor)
    assert old and len(session_rows(app, "ada")) == 1
    resp = counsellor.post("/logout")
    assert redirects_to_login(resp)
    assert session_rows(app, "ada") == []
    assert cookie(counsellor) is None
    assert redirects_to_login(counsellor.get("/"))
    replay = new_browser(app)
    replay.client.set_cookie("journal", old)
    assert redirects_to_login(replay.get("/"))
    assert redirects_to_login(replay.get("/cases/new"))


def test_a_forged_or_tampered_cookie_is_not_signed_in(app, counsellor):
    good = cookie(counsellor)
    for value in ("", "garbage", "A" * 86, good[:-4] + ("AAAA" if good[-4:] != "AAAA" else "BBBB"),
                  good + "AA"):
        replay = new_browser(app)
        replay.client.set_cookie("journal", value)
        assert redirects_to_login(replay.get("/")), value
    assert counsellor.get("/").status_code == 200


def test_each_sign_in_creates_a_new_session(app, counsellor):
    first_rows = {row.id for row in session_rows(app, "ada")}
    first_cookie = cookie(counsellor)
    counsellor.post("/logout")
    assert sign_in(counsellor, "ada").status_code == 302
    second_rows = {row.id for row in session_rows(app, "ada")}
    assert len(second_rows) == 1 and not second_rows & first_rows
    assert cookie(counsellor) != first_cookie
    # Two browsers, two rows, two cookies.
    other = new_browser(app)
    assert sign_in(other, "ada").status_code == 302
    assert len(session_rows(app, "ada")) == 2
    assert cookie(other) not in (cookie(counsellor), first_cookie)


def _age_session(app: Flask, **changes: Any) -> None:
    with session_for(app) as db:
        db.execute(update(WebSession).values(**changes))
        db.commit()


def test_idle_timeout_signs_out_and_deletes_the_row(app, counsellor):
    _age_session(app, last_seen=utcnow() - timedelta(minutes=19))
    assert counsellor.get("/").status_code == 200
    _age_session(app, last_seen=utcnow() - timedelta(minutes=21))
    resp = counsellor.get("/")
    assert redirects_to_login(resp)
    assert session_rows(app) == []
    page = text_of(counsellor.get(location(resp)))
    assert "signed out" in page


def test_absolute_timeout_signs_out_and_deletes_the_row(app, counsellor):
    _age_session(app, created_at=utcnow() - timedelta(hours=11), last_seen=utcnow())
    assert counsellor.get("/").status_code == 200
    _age_session(app, created_at=utcnow() - timedelta(hours=13), last_seen=utcnow())
    assert redirects_to_login(counsellor.get("/"))
    assert session_rows(app) == []


def test_last_seen_is_written_at_most_once_a_minute(app, counsellor):
    before = session_rows(app)[0].last_seen
    assert counsellor.get("/").status_code == 200
    assert counsellor.get("/account").status_code == 200
    assert session_rows(app)[0].last_seen == before
    stale = utcnow() - timedelta(minutes=2)
    _age_session(app, last_seen=stale)
    assert counsellor.get("/").status_code == 200
    assert session_rows(app)[0].last_seen > stale + timedelta(seconds=60)


# --- passphrase change ------------------------------------------------------------------------


def _change(browser: Browser, current: str, new: str = NEW_PASSPHRASE, confirm: str | None = None
            ) -> Any:
    return browser.post("/account/passphrase", {
        "current": current, "passphrase": new, "confirm": confirm or new})


def test_passphrase_change_needs_the_current_one(app, counsellor):
    before = user_named(app, "ada")
    resp = _change(counsellor, "not my passphrase at all")
    page = text_of(resp)
    assert resp.status_code == 400
    assert "not your current passphrase" in error_of(page, "current")
    assert NEW_PASSPHRASE not in page
    after = user_named(app, "ada")
    assert (after.verifier, after.kdf_salt, after.private_key_wrapped) == (
        before.verifier, before.kdf_salt, before.private_key_wrapped)
    assert counsellor.get("/").status_code == 200
    assert sign_in(new_browser(app), "ada").status_code == 302


def test_passphrase_change_policy_applies(app, counsellor):
    resp = _change(counsellor, PASSPHRASE, "too short")
    assert resp.status_code == 400
    assert "at least 12 characters" in error_of(text_of(resp), "passphrase")
    resp = _change(counsellor, PASSPHRASE, NEW_PASSPHRASE, NEW_PASSPHRASE + "x")
    assert "two entries are different" in error_of(text_of(resp), "passphrase")
    assert sign_in(new_browser(app), "ada").status_code == 302


def test_passphrase_change_signs_out_elsewhere_and_keeps_data(app, counsellor):
    new_case(counsellor, "Robin Example")
    elsewhere = new_browser(app)
    assert sign_in(elsewhere, "ada").status_code == 302
    assert elsewhere.get("/").status_code == 200
    old_cookie = cookie(counsellor)

    resp = _change(counsellor, PASSPHRASE)
    assert resp.status_code == 302 and location(resp) == "/account"
    # This browser continues under a new session id; the other one is signed out.
    assert cookie(counsellor) != old_cookie
    assert len(session_rows(app, "ada")) == 1
    assert redirects_to_login(elsewhere.get("/"))
    page = text_of(counsellor.get("/"))
    assert "Robin Example" in page
    # The old passphrase stops working, the new one works and unlocks the same data.
    failed = sign_in(new_browser(app), "ada", PASSPHRASE)
    assert failed.status_code == 200 and "don" in error_of(text_of(failed), "passphrase")
    fresh = new_browser(app)
    assert sign_in(fresh, "ada", NEW_PASSPHRASE).status_code == 302
    assert "Robin Example" in text_of(fresh.get("/"))


# --- recovery ---------------------------------------------------------------------------------


def _recover(app: Flask, code: str, new: str = NEW_PASSPHRASE, login: str = "ada",
             browser: Browser | None = None) -> Any:
    return (browser or new_browser(app)).post("/recover", {
        "login_name": login, "recovery_code": code, "passphrase": new, "confirm": new})


def test_recovery_code_sets_a_new_passphrase_and_is_replaced(app, browser):
    code = set_up_practice(app, browser)
    new_case(browser, "Robin Example")
    rescued = new_browser(app)
    resp = _recover(app, code, browser=rescued)
    assert resp.status_code == 200
    new_code = shown_recovery_code(resp)
    assert new_code != code
    set_cookie_header(resp, "journal")
    # Signed in, but first asked to confirm the new code is stored.
    assert location(rescued.get("/")) == "/account/recovery-code"
    assert rescued.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    assert "Robin Example" in text_of(rescued.get("/"))
    # Whoever held the old passphrase is signed out, and it no longer works.
    assert redirects_to_login(browser.get("/"))
    assert sign_in(new_browser(app), "ada", PASSPHRASE).status_code == 200
    assert sign_in(new_browser(app), "ada", NEW_PASSPHRASE).status_code == 302
    # The old code works once only; the new one works.
    again = _recover(app, code, "another long passphrase here")
    assert again.status_code == 200
    assert "don" in error_of(text_of(again), "recovery_code")
    assert 'id="recovery-code"' not in text_of(again)
    assert _recover(app, new_code, "another long passphrase here").status_code == 200


def test_recovery_accepts_the_code_as_people_type_it(app, browser):
    code = set_up_practice(app, browser)
    typed = " " + code.replace("-", " ").lower() + " "
    assert 'id="recovery-code"' in text_of(_recover(app, typed))


def test_wrong_recovery_code_or_unknown_login_gets_the_same_kind_error(app, browser):
    code = set_up_practice(app, browser)
    wrong = _recover(app, "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567")
    unknown = _recover(app, code, login="marguerite")
    for resp in (wrong, unknown):
        page = text_of(resp)
        assert resp.status_code == 200
        assert "don&#39;t match" in error_of(page, "recovery_code") or "don't match" in page
        assert 'id="recovery-code"' not in page
        assert NEW_PASSPHRASE not in page
        assert not [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("journal=")]
    # The same page either way, apart from echoing what was typed.
    typed = re.compile(r'value="[^"]*"')
    assert typed.sub("", text_of(wrong)) == typed.sub("", text_of(unknown))
    # Nothing changed: the old passphrase still works.
    assert sign_in(new_browser(app), "ada").status_code == 302


def test_recovery_with_a_bad_new_passphrase_changes_nothing(app, browser):
    code = set_up_practice(app, browser)
    resp = _recover(app, code, "short")
    assert "at least 12 characters" in error_of(text_of(resp), "passphrase")
    assert 'id="recovery-code"' not in text_of(resp)
    assert browser.get("/").status_code == 200
    assert 'id="recovery-code"' in text_of(_recover(app, code))


def test_new_recovery_code_needs_the_passphrase_and_replaces_the_old(app, browser):
    code = set_up_practice(app, browser)
    assert "Make a new recovery code" in text_of(browser.get("/account"))
    refused = browser.post("/account/recovery-code", {"passphrase": "not my passphrase at all"})
    assert refused.status_code == 400
    assert "not your current passphrase" in error_of(text_of(refused), "passphrase")
    assert 'id="recovery-code"' not in text_of(refused)

    resp = browser.post("/account/recovery-code", {"passphrase": PASSPHRASE})
    assert resp.status_code == 200
    new_code = shown_recovery_code(resp)
    assert new_code != code
    assert location(browser.get("/")) == "/account/recovery-code"
    assert browser.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    old_attempt = _recover(app, code)
    assert "don" in error_of(text_of(old_attempt), "recovery_code")
    assert 'id="recovery-code"' in text_of(_recover(app, new_code))


# --- signing out everywhere -------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_that_user(app, counsellor):
    bea = invite_and_join(app, counsellor, "bea")
    laptop = new_browser(app)
    assert sign_in(laptop, "ada").status_code == 302
    assert len(session_rows(app, "ada")) == 2
    resp = counsellor.post("/account/sign-out-everywhere")
    assert redirects_to_login(resp)
    assert session_rows(app, "ada") == []
    assert redirects_to_login(counsellor.get("/"))
    assert redirects_to_login(laptop.get("/"))
    # Another user's sessions are untouched.
    assert len(session_rows(app, "bea")) == 1
    assert bea.get("/").status_code == 200


# --- counsellor invitations -------------------------------------------------------------------


def _invite(admin: Browser) -> tuple[str, str]:
    """Create an invitation; returns (link, invitation id)."""
    resp = admin.post("/practice/invitations")
    assert resp.status_code == 200
    page = text_of(resp)
    link = re.search(r'id="invite-link" class="code" readonly value="([^"]+)"', page).group(1)
    ids = re.findall(r'/practice/invitations/([0-9a-f-]{36})/revoke', page)
    return link, ids[-1]


def _join(app: Flask, secret: str, login: str) -> Any:
    return new_browser(app).post("/join", {"secret": secret, "login_name": login,
                                           "passphrase": PASSPHRASE, "confirm": PASSPHRASE})


def test_invitation_link_carries_the_secret_in_the_fragment(app, counsellor):
    link, _id = _invite(counsellor)
    base, secret = link.split("#", 1)
    assert base.endswith("/join")
    assert len(secret) >= 22  # >= 128 bits, base64
    with session_for(app) as db:
        stored = db.scalars(select(CounsellorInvitation)).one()
    assert secret.encode() not in stored.lookup
    # The whole link pasted into the box works too.
    resp = _join(app, link, "bea")
    assert resp.status_code == 200 and 'id="recovery-code"' in text_of(resp)
    assert not user_named(app, "bea").is_admin


def test_invitations_work_once_and_otherwise_reveal_nothing(app, counsellor):
    used_link, _ = _invite(counsellor)
    assert _join(app, used_link.split("#")[1], "bea").status_code == 200
    revoked_link, revoked_id = _invite(counsellor)
    assert location(counsellor.post(f"/practice/invitations/{revoked_id}/revoke")) == "/practice/"
    expired_link, expired_id = _invite(counsellor)
    with session_for(app) as db:
        db.execute(update(CounsellorInvitation).where(CounsellorInvitation.id == expired_id)
                   .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    users = count_users(app)

    attempts = {
        "used": used_link.split("#")[1],
        "revoked": revoked_link.split("#")[1],
        "expired": expired_link.split("#")[1],
        "forged": "A" * len(used_link.split("#")[1]),
        "garbage": "!!not a link!!",
        "too short": "abc",
        "other site": "https://evil.example/join#" + "B" * 27,
    }
    bodies = set()
    for reason, secret in attempts.items():
        resp = _join(app, secret, "carl")
        assert resp.status_code == 404, reason
        bodies.add(without_csrf(text_of(resp)))
    assert len(bodies) == 1
    body = bodies.pop()
    for word in ("revoked", "expired", "already", "used by"):
        assert word not in body.lower()
    assert count_users(app) == users
    # A revoked invitation cannot be revoked again, nor can an unknown one.
    assert counsellor.post(f"/practice/invitations/{revoked_id}/revoke").status_code == 404


def test_joining_needs_a_free_login_name_and_a_good_passphrase(app, counsellor):
    link, _ = _invite(counsellor)
    secret = link.split("#")[1]
    taken = _join(app, secret, "ada")
    assert taken.status_code == 200
    assert "taken" in error_of(text_of(taken), "login_name")
    weak = new_browser(app).post("/join", {"secret": secret, "login_name": "bea",
                                           "passphrase": "passwordpassword",
                                           "confirm": "passwordpassword"})
    assert "common passwords" in error_of(text_of(weak), "passphrase")
    # Refusals do not spend the invitation.
    assert _join(app, secret, "bea").status_code == 200


def test_non_admin_counsellor_does_not_see_the_practice_page(app, counsellor):
    bea = invite_and_join(app, counsellor, "bea")
    assert bea.get("/practice/").status_code == 404
    assert bea.post("/practice/invitations").status_code == 404
    link, invitation_id = _invite(counsellor)
    assert bea.post(f"/practice/invitations/{invitation_id}/revoke").status_code == 404
    assert "Practice" not in re.findall(r"<nav.*?</nav>", text_of(bea.get("/")), re.S)[0]
    assert _join(app, link.split("#")[1], "carl").status_code == 200


# --- where sign-in leads ----------------------------------------------------------------------


@pytest.mark.parametrize(("target", "expected"), [
    ("https://evil.example/", "/"),
    ("//evil.example", "/"),
    ("///evil.example", "/"),
    ("/\\evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("https:evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\t//evil.example", "/"),
    ("/\n/evil.example", "/"),
    ("evil.example", "/"),
    ("", "/"),
    ("/cases/new", "/cases/new"),
    ("/cases/new?x=1", "/cases/new?x=1"),
])
def test_sign_in_follows_only_a_local_next(app, counsellor, target, expected):
    browser = new_browser(app)
    resp = browser.post("/login", {"login_name": "ada", "passphrase": PASSPHRASE,
                                   "next": target})
    assert resp.status_code == 302
    assert location(resp) == expected


def test_next_survives_the_trip_through_the_login_page(app, counsellor):
    browser = new_browser(app)
    resp = browser.get("/cases/new")
    assert redirects_to_login(resp)
    page = text_of(browser.get(location(resp)))
    assert 'name="next" type="hidden" value="/cases/new"' in page
    resp = browser.post("/login", {"login_name": "ada", "passphrase": PASSPHRASE,
                                   "next": "/cases/new"})
    assert location(resp) == "/cases/new"
    assert browser.get("/cases/new").status_code == 200


def test_an_unconfirmed_recovery_code_can_be_replaced_before_going_on(app, browser):
    """Someone who did not store the first code makes a new one from the gate page."""
    from conftest import PASSPHRASE, setup_code

    resp = browser.post("/setup", {
        "setup_code": setup_code(app), "practice_name": "Harbour Counselling",
        "login_name": "ada", "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert resp.status_code == 200
    assert browser.get("/").headers["Location"].endswith("/account/recovery-code")
    resp = browser.post("/account/recovery-code", {"passphrase": PASSPHRASE})
    assert resp.status_code == 200 and 'id="recovery-code"' in resp.get_data(as_text=True)


@pytest.mark.parametrize(("base_url", "secure"), [
    ("http://127.0.0.1:5000", False), ("http://localhost", False), ("http://[::1]:8000", False),
    ("http://journal.example.org", True), ("http://10.0.0.5", True),
])
def test_the_development_cookie_setting_relaxes_secure_on_loopback_only(
        tmp_path, template_db, base_url, secure):
    """JOURNAL_COOKIE_SECURE=0 is for load tests on http://127.0.0.1; elsewhere, Secure stays."""
    from journal.db import engine_for

    from conftest import make_app, set_up_practice

    app = make_app(tmp_path, template_db, COOKIE_SECURE=False)
    try:
        set_up_practice(app, Browser(app.test_client()))
        client = app.test_client()
        page = client.get("/login", base_url=base_url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        resp = client.post("/login", base_url=base_url, data={
            "csrf_token": token, "login_name": "ada", "passphrase": PASSPHRASE})
        assert resp.status_code == 302
        cookie = next(c for c in resp.headers.getlist("Set-Cookie")
                      if c.startswith("journal="))
        assert ("Secure" in cookie) == secure
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    finally:
        engine_for(app).dispose()
