"""From a case to a reviewed, anonymised PDF in a real browser at 360 px: the counsellor
sees every replacement, unticks nothing, adds a word, goes through the checks, downloads."""

from __future__ import annotations

import io
import re

from journal.export.formats.pdf import MissingFont, find_font

from conftest import (
    create_practice_in_browser,
    no_sideways_scroll,
    setup_code,
    skip_or_fail,
)


def test_export_journey_in_chromium(page, live_app):
    try:
        find_font(None)
    except MissingFont:
        skip_or_fail("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    from pypdf import PdfReader

    base = live_app.config["LIVE_URL"]
    page.goto(base + "/setup")
    create_practice_in_browser(page, setup_code(live_app))
    page.get_by_label(re.compile("I have stored this recovery code")).check()
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")

    page.get_by_role("link", name="Add a client").click()
    page.get_by_label("Client's name").fill("陈晓雯")
    page.get_by_label("Preferred name").fill("Sharon")
    page.get_by_label("Other names").fill("Xiaowen, Wennie")
    page.get_by_role("button", name="Create case").click()
    page.get_by_role("link", name="Add or edit people").click()
    page.get_by_label("Name", exact=True).fill("陈建国")
    page.get_by_label("Relation to the client").fill("father")
    page.get_by_role("button", name="Add").click()
    page.get_by_role("link", name=re.compile("^← C-")).click()

    page.get_by_role("link", name="Add a session").click()
    page.get_by_role("button", name="Save session").click()
    page.get_by_label("Template").select_option("narrative")
    page.get_by_role("button", name="Start the note").click()
    page.get_by_label(re.compile("^Session note")).fill(
        "Sharon said 爸爸陈建国 called her at work (Harbour Tiles Ltd) about Wennie's rent. "
        "她说上周三很焦虑，小王陪她去了医院。Email xiaowen.chen@example.com. CBT plan.")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_text("Draft saved.").is_visible()

    page.goto(page.url.split("/sessions/")[0])
    page.get_by_role("link", name="Export a summary").click()
    page.get_by_role("link", name="Review the anonymised summary").click()
    assert page.get_by_role("heading", name="Review the anonymised summary").is_visible()
    assert page.locator("mark").count() >= 6
    assert page.get_by_text("please check").first.is_visible()
    page.get_by_label("Also hide these words").fill("rent")
    page.get_by_role("button", name="Update the preview").click()
    assert page.locator("mark", has_text="[Redacted 1]").count() == 1

    for check in ("A rare job", "Small towns", "No unusual event"):
        page.get_by_label(re.compile(check)).check()
    page.get_by_label(re.compile("^PDF")).check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export the anonymised summary").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-anonymised-summary.pdf")
    with open(download.path(), "rb") as handle:
        data = handle.read()
    text = re.sub(r"[\s\x00]+", "", "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert "[Client]" in text and "[Father]" in text and "上周三很焦虑" in text
    for secret in ("陈晓雯", "Sharon", "陈建国", "Wennie", "xiaowen.chen", "HarbourTiles",
                   "rent"):
        assert secret not in text, secret
    no_sideways_scroll(page)
    assert page.problems == []
