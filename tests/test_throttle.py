"""Throttling per account and per address — never global — with a 429 page that says when to
try again: sign-in, recovery, invitations, and searching (per signed-in account). Counters are
keyed by HMAC, in the database or (CI's second run) in Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from journal.db import engine_for, session_for
from journal.models import ThrottleCounter, User

from conftest import (
    PASSPHRASE,
    REDIS_URL,
    Browser,
    invitation_link,
    invite_and_join,
    make_app,
    new_case,
    set_up_practice,
    sign_in,
)

WRONG = "not the right passphrase at all"


@pytest.fixture
def tight(tmp_path, template_db):
    app = make_app(tmp_path, template_db, THROTTLE_SIGN_IN_ACCOUNT="3 per 5 minutes",
                   THROTTLE_SIGN_IN_ADDRESS="6 per 5 minutes",
                   THROTTLE_RECOVERY_ACCOUNT="2 per hour",
                   THROTTLE_INVITATION_ADDRESS="3 per hour")
    yield app
    engine_for(app).dispose()


def browser_at(app, address: str) -> Browser:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client)


def test_failed_sign_ins_for_one_account_are_throttled_with_a_kind_429(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    attacker = browser_at(tight, "10.0.0.2")
    for _ in range(3):
        assert sign_in(attacker, "ada", WRONG).status_code == 200
    resp = sign_in(attacker, "ada", WRONG)
    assert resp.status_code == 429
    page = resp.get_data(as_text=True)
    assert "try again in about 5 minutes" in page and "Other people are not affected" in page
    assert int(resp.headers["Retry-After"]) > 0
    assert "no-store" in resp.headers["Cache-Control"]
    # Even the right passphrase waits now: the account, not the password, is throttled.
    assert sign_in(attacker, "ada", PASSPHRASE).status_code == 429


def test_one_attacker_does_not_lock_others_out(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    attacker = browser_at(tight, "10.0.0.66")
    for name in ("bob", "cat", "dan", "eve", "fay", "gus"):
        sign_in(attacker, name, WRONG)
    assert sign_in(attacker, "hal", WRONG).status_code == 429  # this address is spent
    # A colleague elsewhere signs in as usual, even into an account the attacker tried.
    colleague = browser_at(tight, "10.0.0.7")
    assert sign_in(colleague, "ada", PASSPHRASE).status_code == 302


def test_successful_sign_ins_do_not_count(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    for _ in range(8):
        fresh = browser_at(tight, "10.0.0.1")
        assert sign_in(fresh, "ada", PASSPHRASE).status_code == 302


def test_recovery_is_throttled_per_account(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    guesser = browser_at(tight, "10.0.0.3")
    data = {"login_name": "ada", "recovery_code": "AAAA-BBBB", "passphrase": WRONG,
            "confirm": WRONG}
    assert guesser.post("/recover", data).status_code == 200
    assert guesser.post("/recover", data).status_code == 200
    assert guesser.post("/recover", data).status_code == 429


def test_invitation_acceptance_is_throttled_per_address(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    case_id = new_case(admin)
    link = invitation_link(admin, case_id)
    prober = browser_at(tight, "10.0.0.4")
    for _ in range(3):
        resp = prober.post("/portal/invite", {"secret": "x" * 27, "login_name": "someone",
                                               "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
        assert resp.status_code == 404
    assert prober.post("/portal/invite", {"secret": link.split("#")[1]}).status_code == 429
    # The real client, elsewhere, is not affected.
    client = browser_at(tight, "10.0.0.5")
    resp = client.post("/portal/invite", {"secret": link.split("#")[1], "login_name": "robin",
                                          "passphrase": PASSPHRASE, "confirm": PASSPHRASE})
    assert resp.status_code == 200


def counter_keys(app) -> list[str]:
    """The keys of the throttle counters this app stored (Redis or the database)."""
    if REDIS_URL:
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        return [k.decode() for k in store.keys(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")]
    with session_for(app) as db:
        return list(db.scalars(select(ThrottleCounter.key)))


def test_the_store_holds_hmacs_never_addresses_or_names(tight):
    admin = browser_at(tight, "10.0.0.1")
    set_up_practice(tight, admin)
    sign_in(browser_at(tight, "192.0.2.77"), "canary-login", WRONG)
    keys = counter_keys(tight)
    assert keys
    for key in keys:
        assert "192.0.2.77" not in key and "canary-login" not in key


def test_search_is_throttled_per_account_with_a_kind_429_and_keeps_no_query(
        tmp_path, template_db, caplog):
    app = make_app(tmp_path, template_db, THROTTLE_SEARCH_ACCOUNT="3 per minute")
    try:
        ada = Browser(app.test_client())
        set_up_practice(app, ada)
        colleague = invite_and_join(app, ada, "bea")  # same address, another account
        assert ada.get("/search").status_code == 200  # the empty form does not count
        for _ in range(3):
            assert ada.post("/search", {"query": "Quillcanary"}).status_code == 200
        resp = ada.post("/search", {"query": "Quillcanary lantern"})
        assert resp.status_code == 429
        page = resp.get_data(as_text=True)
        assert "try again in about 1 minute" in page and "Other people are not affected" in page
        assert int(resp.headers["Retry-After"]) > 0
        assert "no-store" in resp.headers["Cache-Control"]
        assert ada.get("/search").status_code == 200
        assert ada.get("/").status_code == 200  # only searching waits
        assert colleague.post("/search", {"query": "Quillcanary"}).status_code == 200

        keys = counter_keys(app)
        assert any("search-account" in key for key in keys)
        with session_for(app) as db:
            user_ids = set(db.scalars(select(User.id)))
        for key in keys:
            assert "quillcanary" not in key.lower() and "lantern" not in key
            assert not any(user_id in key for user_id in user_ids)
        assert "quillcanary" not in caplog.text.lower()
    finally:
        engine_for(app).dispose()


def test_wrong_passphrases_on_the_account_pages_are_throttled_per_sign_in(
        tmp_path, template_db):
    # Someone holding a borrowed or stolen session must not be able to guess the passphrase
    # (nor run Argon2id without end); the four pages that ask for it share one budget. It is
    # the session's, so such a person cannot use up the owner's own.
    app = make_app(tmp_path, template_db, THROTTLE_PASSPHRASE_CHECK_SESSION="3 per 5 minutes")
    try:
        ada = Browser(app.test_client())
        set_up_practice(app, ada)
        colleague = invite_and_join(app, ada, "bea")
        # Choosing a new passphrase the policy refuses is not guessing: it never counts.
        for _ in range(4):
            resp = ada.post("/account/passphrase", {"current": PASSPHRASE, "passphrase": "short",
                                                    "confirm": "short"})
            assert resp.status_code == 400
        for url, data in (("/account/passphrase", {"current": WRONG, "passphrase": WRONG * 2,
                                                   "confirm": WRONG * 2}),
                          ("/account/recovery-code", {"passphrase": WRONG}),
                          ("/account/passphrase", {"current": WRONG, "passphrase": WRONG * 2,
                                                   "confirm": WRONG * 2})):
            resp = ada.post(url, data)
            assert resp.status_code == 400
            assert "That is not your current passphrase." in resp.get_data(as_text=True)
        # Spent: even the right passphrase waits, on any of the four pages.
        resp = ada.post("/account/recovery-code", {"passphrase": PASSPHRASE})
        assert resp.status_code == 429
        page = resp.get_data(as_text=True)
        assert "try again in about 5 minutes" in page
        assert PASSPHRASE not in page
        assert ada.get("/").status_code == 200  # the rest of the journal goes on
        # The owner signed in elsewhere, and another account, are not affected.
        elsewhere = Browser(app.test_client())
        assert sign_in(elsewhere, "ada", PASSPHRASE).status_code == 302
        assert elsewhere.post("/account/recovery-code",
                              {"passphrase": PASSPHRASE}).status_code == 200
        assert colleague.post("/account/recovery-code",
                              {"passphrase": PASSPHRASE}).status_code == 200
        keys = counter_keys(app)
        assert any("passphrase-check-session" in key for key in keys)
    finally:
        engine_for(app).dispose()


def test_every_account_page_that_asks_for_the_passphrase_draws_on_that_budget(app):
    from journal import throttle

    asking = {endpoint for endpoint, rules in throttle._RULES.items()
              if any(scope == "passphrase-check-session" for _n, _k, scope, _c in rules)}
    assert asking == {"auth.change_passphrase", "auth.new_recovery_code",
                      "auth.new_backup_codes", "auth.turn_off_two_factor"}
