"""Two-step sign-in in a real browser at 360 px: a new counsellor is led to set it up, scans
(reads) the server-made QR code's key, confirms with a code, stores the backup codes using
the keyboard, and signs in again with the second step — with no CSP violation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp

from journal.crypto import otp

from conftest import PASSPHRASE, create_practice_in_browser, no_sideways_scroll, setup_code


def test_two_step_sign_in_in_chromium(page, live_app, monkeypatch):
    now = [datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)]
    monkeypatch.setattr(otp, "_now", lambda: now[0])  # the live server runs in this process
    live_app.config["REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS"] = True
    base = live_app.config["LIVE_URL"]

    page.goto(base + "/setup")
    create_practice_in_browser(page, setup_code(live_app))
    page.get_by_label(re.compile("I have stored this recovery code")).check()
    page.get_by_role("button", name="Continue").click()

    # Led to the set-up page, not the dashboard.
    page.wait_for_url(base + "/account/two-factor")
    page.get_by_role("button", name="Set up two-step sign-in").click()
    qr = page.locator("svg.qr-code")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and 100 <= box["width"] <= 330, box
    no_sideways_scroll(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("The 6-digit code your app shows now").fill(pyotp.TOTP(secret).at(now[0]))
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    no_sideways_scroll(page)
    page.get_by_label(re.compile("I have stored these backup codes")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Your cases").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Login name").fill("ada")
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/login/two-factor"))
    assert page.get_by_role("heading", name="One more step").is_visible()
    no_sideways_scroll(page)
    now[0] += timedelta(seconds=30)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(now[0]))
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Your cases").is_visible()
    assert page.problems == [], page.problems  # no CSP violations or script errors
