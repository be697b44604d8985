"""Two-step sign-in (TOTP): setting it up with a QR code made on the server, the second step
of signing in, no code twice, backup codes once each, a pending session that reaches nothing
else, throttling per account, counsellors led to set it up, clients free to choose, the
recovery code as the way back, and no secret in the clear in the database."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from journal.auth import two_factor
from journal.crypto import otp
from journal.db import engine_for, session_for
from journal.models import AuditEvent, BackupCode, Case, User, WebSession, utcnow

from conftest import (
    PASSPHRASE,
    Browser,
    invite_and_join,
    join_as_client,
    make_app,
    new_case,
    set_up_practice,
    sign_in,
)

NEW_PASSPHRASE = "lanterns over a sleeping valley"
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", re.I)


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def location(resp: Any) -> str:
    return resp.headers.get("Location", "")


def new_browser(app: Flask) -> Browser:
    return Browser(app.test_client())


class Clock:
    """The clock TOTP codes are checked against, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)

    def tick(self, seconds: int = 30) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(otp, "_now", lambda: fake.now)
    return fake


@pytest.fixture
def app(tmp_path: Any, template_db: str | None) -> Iterator[Flask]:
    """An app that asks counsellors for two-step sign-in, as in production."""
    app = make_app(tmp_path, template_db, REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS=True,
                   THROTTLE_SECOND_FACTOR_ACCOUNT="5 per 5 minutes")
    yield app
    engine_for(app).dispose()


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def start_set_up(browser: Browser) -> tuple[str, str]:
    """Press "Set up"; returns (the secret shown for typing in, the page)."""
    resp = browser.post("/account/two-factor/start")
    assert resp.status_code == 302 and location(resp).startswith("/account/two-factor")
    page = text_of(browser.get("/account/two-factor"))
    secret = re.search(r'id="totp-secret">([^<]+)<', page).group(1).replace(" ", "")
    return secret, page


def turn_on(browser: Browser, clock: Clock) -> tuple[str, list[str]]:
    """Set up two-step sign-in; returns (secret, backup codes)."""
    secret, _page = start_set_up(browser)
    resp = browser.post("/account/two-factor/confirm", {"code": code(secret, clock)})
    assert resp.status_code == 200, text_of(resp)
    codes = re.findall(r'<li class="code">([^<]+)</li>', text_of(resp))
    assert browser.post("/account/two-factor/backup-codes/stored",
                        {"stored": "y"}).status_code == 302
    clock.tick()  # the code used to confirm cannot sign anyone in
    return secret, codes


def second_step(browser: Browser, typed: str) -> Any:
    return browser.post("/login/two-factor", {"code": typed})


def error_of(page: str) -> str:
    match = re.search(r'<p class="error" id="code-error">([^<]*)</p>', page)
    assert match, "no error shown for the code"
    return match.group(1)


def user_named(app: Flask, login: str) -> User:
    with session_for(app) as db:
        return db.scalars(select(User).where(User.login_name == login)).one()


def actions(app: Flask) -> list[str]:
    with session_for(app) as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def sessions_of(app: Flask, user_id: str) -> list[WebSession]:
    with session_for(app) as db:
        return list(db.scalars(select(WebSession).where(WebSession.user_id == user_id)))


@pytest.fixture
def ada(app: Flask, browser: Browser, clock: Clock) -> tuple[Browser, str, list[str]]:
    """The practice admin 'ada' with two-step sign-in on: (browser, secret, backup codes)."""
    set_up_practice(app, browser)
    secret, codes = turn_on(browser, clock)
    return browser, secret, codes


# --- setting it up ----------------------------------------------------------------------------


def test_set_up_shows_a_server_made_qr_and_turns_on_with_a_code(app, browser, clock):
    set_up_practice(app, browser)
    page = text_of(browser.get("/account/two-factor"))
    assert "Set up two-step sign-in" in page and "<svg" not in page

    secret, page = start_set_up(browser)
    assert len(secret) == 32  # 160 bits
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'class="qr-code"' in svg and "<path" in svg and "<title>" in svg
    assert "style=" not in svg and not _INLINE.search(page)
    assert 'autocomplete="one-time-code"' in page
    assert user_named(app, "ada").totp_sealed is None  # not on until a code proves it

    wrong = browser.post("/account/two-factor/confirm", {"code": "000000"})
    assert wrong.status_code == 400
    assert "didn&#39;t work" in error_of(text_of(wrong))
    assert user_named(app, "ada").totp_sealed is None

    resp = browser.post("/account/two-factor/confirm", {"code": code(secret, clock)})
    assert resp.status_code == 200
    shown = text_of(resp)
    codes = re.findall(r'<li class="code">([^<]+)</li>', shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only this once" in shown
    ada = user_named(app, "ada")
    assert ada.totp_sealed is not None and ada.totp_pending_sealed is None
    with session_for(app) as db:
        stored = list(db.scalars(select(BackupCode.lookup).where(BackupCode.user_id == ada.id)))
    assert len(stored) == 10
    for one in codes:
        assert one.encode() not in b"".join(stored)
    # Shown once: never again on the settings page.
    assert browser.post("/account/two-factor/backup-codes/stored",
                        {"stored": "y"}).status_code == 302
    page = text_of(browser.get("/account/two-factor"))
    assert "Two-step sign-in is on" in page and "10 unused backup codes" in page
    assert not any(one in page for one in codes) and secret not in page.replace(" ", "")
    assert [a for a in actions(app) if "second_factor" in a] == [
        "auth.second_factor_setup_started", "auth.second_factor_setup_failed",
        "auth.second_factor_on"]


def test_turning_it_on_signs_out_other_devices(app, browser, clock):
    set_up_practice(app, browser)
    laptop = new_browser(app)
    assert sign_in(laptop, "ada").status_code == 302
    turn_on(browser, clock)
    assert location(laptop.get("/")).startswith("/login")
    assert browser.get("/").status_code == 200


# --- signing in -------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_and_refuses_a_wrong_one(app, ada, clock):
    _browser, secret, _codes = ada
    other = new_browser(app)
    resp = sign_in(other, "ada")
    assert resp.status_code == 302 and location(resp) == "/login/two-factor"
    page = text_of(other.get("/login/two-factor"))
    assert "One more step" in page and not _INLINE.search(page)
    assert "Cases" not in page  # no navigation: not signed in yet

    wrong = second_step(other, "123456" if code(secret, clock) != "123456" else "654321")
    assert wrong.status_code == 200
    assert "didn&#39;t work" in error_of(text_of(wrong))
    assert location(other.get("/")) == "/login/two-factor"

    ok = second_step(other, code(secret, clock))
    assert ok.status_code == 302 and location(ok) == "/"
    assert other.get("/").status_code == 200
    ada_id = user_named(app, "ada").id
    assert not any(row.second_factor_pending for row in sessions_of(app, ada_id))
    assert actions(app)[-4:] == ["auth.second_factor_asked", "auth.second_factor_failed",
                                 "auth.second_factor_ok", "auth.sign_in"]
    with session_for(app) as db:
        failed = db.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.second_factor_failed")).one()
    assert failed.object_id == ada_id and failed.actor_id is None


def test_the_same_code_works_once(app, ada, clock):
    _browser, secret, _codes = ada
    first = new_browser(app)
    sign_in(first, "ada")
    # A phone whose clock runs 30 seconds fast is still fine (one step either way).
    ahead = pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30))
    assert location(second_step(first, ahead)) == "/"
    second = new_browser(app)
    sign_in(second, "ada")
    again = second_step(second, ahead)
    assert again.status_code == 200
    assert "just been used" in error_of(text_of(again))
    # A code from before the one used is refused too, though still inside the window.
    assert "just been used" in error_of(text_of(second_step(second, code(secret, clock))))
    clock.tick(60)
    assert location(second_step(second, code(secret, clock))) == "/"


def test_next_survives_the_second_step(app, ada, clock):
    _browser, secret, _codes = ada
    other = new_browser(app)
    resp = other.post("/login", {"login_name": "ada", "passphrase": PASSPHRASE,
                                 "next": "/cases/new"})
    assert location(resp) == "/login/two-factor?next=/cases/new"
    page = text_of(other.get(location(resp)))
    assert 'name="next" type="hidden" value="/cases/new"' in page
    ok = other.post("/login/two-factor", {"code": code(secret, clock), "next": "/cases/new"})
    assert location(ok) == "/cases/new"


def test_a_backup_code_works_once(app, ada, clock):
    _browser, _secret, codes = ada
    other = new_browser(app)
    sign_in(other, "ada")
    typed = " " + codes[0].lower().replace("-", " ") + " "  # as people type it
    ok = second_step(other, typed)
    assert ok.status_code == 302 and location(ok) == "/"
    assert "9 left" in text_of(other.get("/"))
    third = new_browser(app)
    sign_in(third, "ada")
    assert "didn&#39;t work" in error_of(text_of(second_step(third, codes[0])))
    assert location(second_step(third, codes[1])) == "/"
    assert actions(app).count("auth.backup_code_used") == 2


def test_new_backup_codes_replace_the_old_ones(app, ada, clock):
    browser, _secret, codes = ada
    refused = browser.post("/account/two-factor/backup-codes",
                           {"codes-passphrase": "not my passphrase at all"})
    assert refused.status_code == 400 and "not your current passphrase" in text_of(refused)
    resp = browser.post("/account/two-factor/backup-codes", {"codes-passphrase": PASSPHRASE})
    fresh = re.findall(r'<li class="code">([^<]+)</li>', text_of(resp))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    other = new_browser(app)
    sign_in(other, "ada")
    assert second_step(other, codes[2]).status_code == 200
    assert location(second_step(other, fresh[0])) == "/"


# --- the pending session ----------------------------------------------------------------------


def test_a_pending_session_reaches_only_the_second_step(app, ada, clock):
    admin, secret, _codes = ada
    case_id = new_case(admin, "Robin Example")
    pending = new_browser(app)
    sign_in(pending, "ada")
    pending_cookie = pending.client.get_cookie("journal").value
    for url in ("/", "/account", "/account/two-factor", "/cases/new", f"/cases/{case_id}",
                "/practice/", "/portal/", "/account/recovery-code", "/login", "/recover",
                "/setup", "/join"):
        resp = pending.get(url)
        assert resp.status_code == 302 and location(resp) == "/login/two-factor", url
        assert "Robin Example" not in text_of(resp)
    for url, data in (("/cases/new", {"name": "Mallory"}),
                      ("/account/two-factor/off", {"off-passphrase": PASSPHRASE}),
                      ("/account/two-factor/start", {}),
                      ("/account/sign-out-everywhere", {}),
                      ("/practice/invitations", {})):
        resp = pending.post(url, data)
        assert resp.status_code == 302 and location(resp) == "/login/two-factor", url
    with session_for(app) as db:
        assert len(db.scalars(select(Case)).all()) == 1
    assert user_named(app, "ada").totp_sealed is not None
    assert admin.get("/").status_code == 200  # "sign out everywhere" did not run

    ok = second_step(pending, code(secret, clock))
    assert location(ok) == "/"
    assert pending.client.get_cookie("journal").value != pending_cookie
    assert "Robin Example" in text_of(pending.get("/"))
    # The pending session ended; its cookie is worth nothing now.
    replay = new_browser(app)
    replay.client.set_cookie("journal", pending_cookie)
    assert location(replay.get("/")).startswith("/login")
    assert location(replay.get("/login/two-factor")).startswith("/login")


def test_a_pending_session_can_be_left_and_expires(app, ada, clock):
    pending = new_browser(app)
    sign_in(pending, "ada")
    ada_id = user_named(app, "ada").id
    assert location(pending.post("/logout")) == "/login"
    assert not any(row.second_factor_pending for row in sessions_of(app, ada_id))
    # "I lost my phone": sign out and go to the recovery page.
    sign_in(pending, "ada")
    assert location(pending.post("/logout", {"then": "recover"})) == "/recover"
    # Ten minutes to give the code, then it starts over.
    sign_in(pending, "ada")
    with session_for(app) as db:
        db.execute(update(WebSession).where(WebSession.second_factor_pending.is_(True))
                   .values(created_at=utcnow() - timedelta(minutes=11)))
        db.commit()
    assert location(pending.get("/")).startswith("/login")
    assert not any(row.second_factor_pending for row in sessions_of(app, ada_id))


def test_wrong_codes_are_throttled_per_account(app, ada, clock):
    admin, secret, _codes = ada
    attacker = new_browser(app)
    sign_in(attacker, "ada")
    for _ in range(5):
        assert second_step(attacker, "000000").status_code == 200
    resp = second_step(attacker, "000000")
    assert resp.status_code == 429
    assert "Other people are not affected" in text_of(resp)
    # The account is throttled, not the browser: the right code waits too, anywhere.
    assert second_step(attacker, code(secret, clock)).status_code == 429
    elsewhere = new_browser(app)
    sign_in(elsewhere, "ada")
    assert second_step(elsewhere, code(secret, clock)).status_code == 429
    # Another account is not affected.
    bea = invite_and_join(app, admin, "bea")
    bea_secret, _bea_codes = turn_on(bea, clock)
    laptop = new_browser(app)
    sign_in(laptop, "bea")
    assert location(second_step(laptop, code(bea_secret, clock))) == "/"


# --- who must use it --------------------------------------------------------------------------


def test_a_counsellor_is_led_to_set_it_up_when_required(app, browser, clock):
    set_up_practice(app, browser)
    for url in ("/", "/cases/new", "/account", "/practice/", "/account/recovery-code"):
        assert location(browser.get(url)) == "/account/two-factor", url
    assert location(browser.post("/cases/new", {"name": "Robin"})) == "/account/two-factor"
    page = text_of(browser.get("/account/two-factor"))
    assert "Your practice asks every counsellor" in page
    # Signing in again does not skip it.
    other = new_browser(app)
    assert location(sign_in(other, "ada")) == "/"
    assert location(other.get("/")) == "/account/two-factor"

    turn_on(browser, clock)
    assert browser.get("/").status_code == 200
    # And it cannot be turned off while the practice requires it.
    refused = browser.post("/account/two-factor/off", {"off-passphrase": PASSPHRASE})
    assert refused.status_code == 400 and "stays on" in text_of(refused)
    assert user_named(app, "ada").totp_sealed is not None


def test_not_required_a_counsellor_may_turn_it_off(tmp_path, template_db, clock):
    app = make_app(tmp_path, template_db)  # REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS off
    try:
        browser = new_browser(app)
        set_up_practice(app, browser)
        assert browser.get("/").status_code == 200
        turn_on(browser, clock)
        wrong = browser.post("/account/two-factor/off", {"off-passphrase": "not it at all!!"})
        assert wrong.status_code == 400 and "not your current passphrase" in text_of(wrong)
        resp = browser.post("/account/two-factor/off", {"off-passphrase": PASSPHRASE})
        assert location(resp) == "/account/two-factor"
        assert user_named(app, "ada").totp_sealed is None
        assert location(sign_in(new_browser(app), "ada")) == "/"
        assert "auth.second_factor_off" in actions(app)
    finally:
        engine_for(app).dispose()


def test_a_client_may_sign_in_without_it_or_choose_it(app, ada, clock, monkeypatch):
    admin, _secret, _codes = ada
    case_id = new_case(admin)
    client = join_as_client(app, admin, case_id, "robin")
    assert client.get("/portal/").status_code == 200  # not asked to set anything up
    fresh = new_browser(app)
    assert location(sign_in(fresh, "robin")) == "/portal/"
    assert "It is your choice" in text_of(client.get("/account/two-factor"))
    # The client chooses it. Their app lists a neutral name: a glance at their phone
    # should not tell anyone they see a counsellor.
    links: list[str] = []
    real_qr = two_factor.qr_svg
    monkeypatch.setattr(two_factor, "qr_svg",
                        lambda uri, title: links.append(uri) or real_qr(uri, title))
    secret, page = start_set_up(client)
    assert links and links[-1].startswith("otpauth://totp/Journal:Journal?")
    assert secret in links[-1] and "Harbour" not in links[-1] and "robin" not in links[-1]
    assert client.post("/account/two-factor/confirm",
                       {"code": code(secret, clock)}).status_code == 200
    clock.tick()
    fresh = new_browser(app)
    assert location(sign_in(fresh, "robin")) == "/login/two-factor"
    assert location(second_step(fresh, code(secret, clock))) == "/portal/"
    # And may turn it off again with the passphrase.
    assert location(client.post("/account/two-factor/off",
                                {"off-passphrase": PASSPHRASE})) == "/account/two-factor"
    assert location(sign_in(new_browser(app), "robin")) == "/portal/"


def test_signing_in_again_from_an_open_reflection_needs_the_code_too(app, ada, clock):
    admin, _secret, _codes = ada
    client = join_as_client(app, admin, new_case(admin), "robin")
    secret, _page = start_set_up(client)
    client.post("/account/two-factor/confirm", {"code": code(secret, clock)})
    clock.tick()
    draft = client.post("/portal/reflections/new")
    assert 'id="resume-code"' in text_of(client.get(location(draft)))
    page = new_browser(app)
    missing = page.post("/portal/resume", {"login_name": "robin", "passphrase": PASSPHRASE})
    assert missing.status_code == 401 and "code" in missing.get_json()["message"]
    assert page.client.get_cookie("journal") is None
    ok = page.post("/portal/resume", {"login_name": "robin", "passphrase": PASSPHRASE,
                                      "code": code(secret, clock)})
    assert ok.status_code == 200 and ok.get_json()["ok"]
    assert page.get("/portal/").status_code == 200


# --- the way back, and what stays -------------------------------------------------------------


def test_the_recovery_code_resets_two_step_sign_in(app, browser, clock):
    recovery = set_up_practice(app, browser)
    turn_on(browser, clock)
    rescued = new_browser(app)
    resp = rescued.post("/recover", {"login_name": "ada", "recovery_code": recovery,
                                     "passphrase": NEW_PASSPHRASE, "confirm": NEW_PASSPHRASE})
    assert resp.status_code == 200 and 'id="recovery-code"' in text_of(resp)
    assert "Two-step sign-in is off now" in text_of(resp)
    ada = user_named(app, "ada")
    assert ada.totp_sealed is None and ada.totp_last_step is None
    with session_for(app) as db:
        assert db.scalars(select(BackupCode)).all() == []
    assert "auth.second_factor_reset" in actions(app)
    # Signed in; after confirming the new recovery code, led to set it up again.
    assert rescued.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    assert location(rescued.get("/")) == "/account/two-factor"
    assert location(sign_in(new_browser(app), "ada", NEW_PASSPHRASE)) == "/"


def test_a_passphrase_change_keeps_it(app, ada, clock):
    browser, secret, _codes = ada
    resp = browser.post("/account/passphrase", {"current": PASSPHRASE,
                                                "passphrase": NEW_PASSPHRASE,
                                                "confirm": NEW_PASSPHRASE})
    assert location(resp) == "/account"
    other = new_browser(app)
    assert location(sign_in(other, "ada", NEW_PASSPHRASE)) == "/login/two-factor"
    assert location(second_step(other, code(secret, clock))) == "/"


def test_no_secret_reaches_the_database_in_the_clear(app, ada, clock, template_db):
    browser, secret, codes = ada
    # A set-up in progress is sealed too.
    client = join_as_client(app, browser, new_case(browser), "robin")
    pending_secret, _page = start_set_up(client)
    with session_for(app) as db:
        ada_row = db.scalars(select(User).where(User.login_name == "ada")).one()
        columns = [ada_row.totp_sealed, *db.scalars(select(User.totp_pending_sealed))]
        columns += list(db.scalars(select(BackupCode.lookup)))
    raw = base64.b32decode(secret)
    needles = [secret.encode(), raw, base64.b32decode(pending_secret), pending_secret.encode()]
    needles += [c.encode() for c in codes] + [c.replace("-", "").encode() for c in codes]
    for blob in columns:
        if blob is not None:
            assert not any(n in blob for n in needles)
    if template_db is None:
        return  # PostgreSQL: the columns above are what it stores
    folder = Path(app.instance_path)
    data = b"".join(p.read_bytes() for p in folder.glob("journal.db*"))
    assert b"auth.second_factor_on" in data  # the search does see the file's contents
    for needle in needles:
        assert needle not in data
