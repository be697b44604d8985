"""A counsellor's first hour, in a real browser at 360 px: set-up with the terminal's code,
the recovery code, a case, a session, a note signed, an open question, a person, and an
invitation link whose secret is read from the URL fragment by a static script."""

from __future__ import annotations

import re

from conftest import create_practice_in_browser, no_sideways_scroll, setup_code


def test_counsellor_journey_in_chromium(page, live_app):
    base = live_app.config["LIVE_URL"]
    code = setup_code(live_app)

    page.goto(base + "/")
    assert page.url.endswith("/setup")
    create_practice_in_browser(page, code)

    recovery = page.locator("#recovery-code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", recovery)
    # Keyboard only: tick the box with the space bar, submit with Enter.
    page.get_by_label(re.compile("I have stored this recovery code")).focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Your cases").is_visible()

    page.get_by_role("link", name="Add a client").click()
    page.get_by_label("Client's name").fill("陈晓雯")
    page.get_by_label("Preferred name").fill("Sharon")
    page.get_by_role("button", name="Create case").click()
    assert page.get_by_role("heading", name="陈晓雯 (Sharon)").is_visible()

    page.get_by_role("link", name="Add a session").click()
    page.get_by_role("button", name="Save session").click()
    assert page.get_by_role("heading", name="Session 1").is_visible()

    page.get_by_label("An open question from this session").fill(
        "What would it look like to rest without earning it?")
    page.get_by_role("button", name="Record the question").click()
    assert page.get_by_text("rest without earning it").is_visible()

    page.get_by_label("Template").select_option("dap")
    page.get_by_role("button", name="Start the note").click()
    page.get_by_label(re.compile("^Data")).fill("Talked about 妈妈 and work.")
    page.get_by_label(re.compile("^Plan")).fill("Notice moments of rest.")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_text("Draft saved.").is_visible()
    page.get_by_label(re.compile("I have read this note")).check()
    page.get_by_role("button", name="Sign and lock").click()
    assert page.get_by_text("Signed. The note is now locked").is_visible()

    no_sideways_scroll(page)

    page.goto(base + "/practice/")
    page.get_by_role("button", name="Create an invitation link").click()
    link = page.locator("#invite-link").input_value()
    assert "/join#" in link
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    secret_box = page.get_by_label("Invitation link or code")
    assert secret_box.input_value() == link.split("#", 1)[1]
    assert "#" not in page.url  # the script took the secret out of the address bar
    assert page.problems == [], page.problems  # no CSP violations or script errors
