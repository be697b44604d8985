"""Two app servers on one database (as two gunicorn hosts behind a proxy): a session made on
one is valid on the other, and signing out on one ends it on both. Nothing that identifies a
user lives in process memory. Runs on PostgreSQL when JOURNAL_TEST_DATABASE_URL is set (CI)."""

from __future__ import annotations

import shutil

from journal import create_app
from journal.db import engine_for

from conftest import FAST_KDF, PG_URL, Browser, new_case, set_up_practice


def second_instance(app, tmp_path):
    """Another app on the same database, with a copy of the same instance/ secrets."""
    other = tmp_path / "host-b"
    shutil.copytree(app.instance_path, other,
                    ignore=shutil.ignore_patterns("journal.db*", "audit_checkpoints"))
    return create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                       **FAST_KDF}, instance_path=str(other))


def cookie_of(browser: Browser) -> str:
    return browser.client.get_cookie("journal").value


def test_a_session_made_on_one_host_works_on_the_other_and_ends_on_both(app, tmp_path):
    assert PG_URL is None or app.config["DATABASE_URL"] == PG_URL
    host_b = second_instance(app, tmp_path)
    try:
        on_a = Browser(app.test_client())
        set_up_practice(app, on_a)
        case_id = new_case(on_a, "Seen On Both Hosts")

        on_b = Browser(host_b.test_client())
        on_b.client.set_cookie("journal", cookie_of(on_a))
        page = on_b.get(f"/cases/{case_id}")
        assert page.status_code == 200 and "Seen On Both Hosts" in page.get_data(as_text=True)

        # Sign out on host B (with B's own CSRF token); host A no longer knows the cookie.
        on_b.post("/logout")
        assert on_a.get("/").status_code == 302
        assert on_a.get("/").headers["Location"].startswith("/login")
    finally:
        engine_for(host_b).dispose()
