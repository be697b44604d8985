"""Fixtures: a real database per test (SQLite, or PostgreSQL when JOURNAL_TEST_DATABASE_URL is
set), a fast Argon2id set only through test config, and a browser-like client with CSRF."""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from journal import create_app, instance_secrets, migrate
from journal.db import Base, engine_for
from journal.seed import seed_demo  # noqa: F401 - import check: the seed module must import

PG_URL = os.environ.get("JOURNAL_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("JOURNAL_TEST_REDIS_URL")
REQUIRE_ALL = os.environ.get("JOURNAL_REQUIRE_ALL") == "1"
PASSPHRASE = "a quiet harbour at dawn"
# Cheap Argon2id, and two-step sign-in for counsellors off (on by default; the tests of
# test_two_factor.py turn it on): every app the tests build starts from this.
FAST_KDF = {"KDF_MEMORY_KIB": 256, "KDF_ITERATIONS": 1, "KDF_LANES": 1, "ALLOW_WEAK_KDF": True,
            "REQUIRE_SECOND_FACTOR_FOR_COUNSELLORS": False}
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"')


def skip_or_fail(reason: str) -> None:
    """Skip with a printed reason, unless CI demands every part (JOURNAL_REQUIRE_ALL=1)."""
    if REQUIRE_ALL:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """A migrated SQLite file built once; each test gets a copy. None on PostgreSQL."""
    if PG_URL:
        app = create_app({"TESTING": True, "DATABASE_URL": PG_URL, **FAST_KDF},
                         instance_path=str(tmp_path_factory.mktemp("pg-instance")))
        with engine_for(app).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(app)
        engine_for(app).dispose()
        return None
    path = tmp_path_factory.mktemp("template") / "journal.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", **FAST_KDF},
                     instance_path=str(path.parent))
    migrate.upgrade(app)
    engine_for(app).dispose()
    return str(path)


def make_app(tmp_path: Any, template_db: str | None, **overrides: Any) -> Flask:
    """A configured app on a fresh database in its own instance folder, with secrets."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    if template_db:
        shutil.copy(template_db, instance / "journal.db")
        url = f"sqlite:///{instance / 'journal.db'}"
    else:
        url = PG_URL
    config = {"TESTING": True, "DATABASE_URL": url, **FAST_KDF, **overrides}
    if REDIS_URL:
        # Throttle counters in Redis, under a prefix of this test's own.
        config.setdefault("REDIS_URL", REDIS_URL)
        config.setdefault("RATELIMIT_KEY_PREFIX", f"journal-test-{uuid.uuid4().hex}")
    app = create_app(config, instance_path=str(instance))
    instance_secrets.create_missing(str(instance), practice_has_users=False)
    if not template_db:
        with engine_for(app).begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    return app


@pytest.fixture
def app(tmp_path: Any, template_db: str | None) -> Iterator[Flask]:
    app = make_app(tmp_path, template_db)
    yield app
    engine_for(app).dispose()


class Browser:
    """A test client that carries the CSRF token the way a browser's form would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            match = _CSRF.search(page) or _CSRF.search(
                self.client.get("/account").get_data(as_text=True))
            assert match, "no CSRF token found on /login or /account"
            self._token = match.group(1) or match.group(2)
        return self._token

    def get(self, url: str, **kw: Any):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kw: Any):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def setup_code(app: Flask) -> str:
    """Issue a set-up code the way `flask prepare` does."""
    from journal.auth.service import issue_setup_code
    from journal.db import session_for

    with session_for(app) as db:
        code = issue_setup_code(db)
        db.commit()
    return code


def set_up_practice(app: Flask, browser: Browser, login: str = "ada",
                    passphrase: str = PASSPHRASE) -> str:
    """Run the set-up page as the first counsellor; returns the recovery code shown."""
    resp = browser.post("/setup", {
        "setup_code": setup_code(app), "practice_name": "Harbour Counselling",
        "login_name": login, "passphrase": passphrase, "confirm": passphrase,
    })
    assert resp.status_code == 200, resp.get_data(as_text=True)
    code = re.search(r'id="recovery-code">([^<]+)<', resp.get_data(as_text=True)).group(1)
    assert browser.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    return code


def sign_in(browser: Browser, login: str, passphrase: str = PASSPHRASE):
    return browser.post("/login", {"login_name": login, "passphrase": passphrase})


@pytest.fixture
def counsellor(app: Flask, browser: Browser) -> Browser:
    """A signed-in practice admin counsellor called 'ada'."""
    set_up_practice(app, browser)
    return browser


def invite_and_join(app: Flask, admin: Browser, login: str,
                    passphrase: str = PASSPHRASE) -> Browser:
    """The admin invites a colleague, who joins in a new browser; returns that browser."""
    page = admin.post("/practice/invitations").get_data(as_text=True)
    link = re.search(r'id="invite-link" class="code" readonly value="([^"]+)"', page).group(1)
    other = Browser(app.test_client())
    resp = other.post("/join", {"secret": link.split("#", 1)[1], "login_name": login,
                                "passphrase": passphrase, "confirm": passphrase})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert other.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    return other


def new_case(browser: Browser, name: str = "Robin Example", **extra: str) -> str:
    """Create a case through the form; returns its id."""
    resp = browser.post("/cases/new", {"name": name, **extra})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def future(month: int, day: int) -> date:
    """A day in the year after next: always ahead, and within the dates a session form takes
    (up to the end of the fifth year from now)."""
    return date(date.today().year + 2, month, day)


def shown(day: date) -> str:
    """A day as the dashboard shows it."""
    return day.strftime("%a %d %b %Y")


def new_session(browser: Browser, case_id: str, held_on: str = "2026-11-02",
                attendance: str = "attended") -> str:
    resp = browser.post(f"/cases/{case_id}/sessions/new", {
        "held_on": held_on, "duration_minutes": "50", "attendance": attendance})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]


# --- a live server and Debian's Chromium, driven by Playwright (never a downloaded browser) --

CHROMIUM = "/usr/bin/chromium"


def _read_whole(app: Flask) -> Any:
    """Each response read whole and closed before the server writes it. Werkzeug's
    development server closes a response only after writing all of it: when Chromium drops a
    connection mid-write (a favicon it no longer needs, on navigating away), the static
    file stays open, and its ResourceWarning fails whichever test is running."""
    def wsgi(environ: dict, start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return wsgi


@pytest.fixture
def live_app(tmp_path, template_db):
    app = make_app(tmp_path, template_db)
    server = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(5)
    engine_for(app).dispose()


@pytest.fixture
def page(live_app) -> Iterator:
    if not os.path.exists(CHROMIUM):
        skip_or_fail("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 360, "height": 780})
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.problems = problems
        yield page
        context.close()
        browser.close()


# --- clients --------------------------------------------------------------------------------


def invitation_link(counsellor: Browser, case_id: str, readmit: bool = False) -> str:
    """The counsellor creates an invitation link for the case's client."""
    data = {"readmit": "1"} if readmit else {}
    page = counsellor.post(f"/cases/{case_id}/invitation", data).get_data(as_text=True)
    match = re.search(r'id="invite-link" class="code" readonly value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def join_as_client(app: Flask, counsellor: Browser, case_id: str, login: str,
                   passphrase: str = PASSPHRASE) -> Browser:
    """The client opens the link in their own browser, joins and confirms their code."""
    link = invitation_link(counsellor, case_id)
    client = Browser(app.test_client())
    resp = client.post("/portal/invite", {"secret": link.split("#", 1)[1], "login_name": login,
                                          "passphrase": passphrase, "confirm": passphrase})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert client.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    return client


def start_reflection(client: Browser) -> str:
    """A new draft reflection; returns its id."""
    resp = client.post("/portal/reflections/new")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def reflection_version(client: Browser, reflection_id: str) -> str:
    page = client.get(f"/portal/reflections/{reflection_id}").get_data(as_text=True)
    return re.search(r'name="edit_version" type="hidden" value="(\d+)"', page).group(1)


def share_reflection(client: Browser, **fields: str) -> str:
    """Write and share a reflection; returns its id."""
    reflection_id = start_reflection(client)
    resp = client.post(f"/portal/reflections/{reflection_id}", {
        "stood_out": "A calmer week", **fields, "action": "share",
        "edit_version": reflection_version(client, reflection_id),
        "week_rating_skip": "1", "session_rating_skip": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return reflection_id


def create_practice_in_browser(page, code: str) -> None:
    """Fill in the set-up page the browser is on (as "ada") and create the practice."""
    page.get_by_label("Set-up code").fill(code)
    page.get_by_label("Name of your practice").fill("Harbour Counselling")
    page.get_by_label("Login name").fill("ada")
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("The same passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my practice").click()


def no_sideways_scroll(page, width: int = 360) -> None:
    """The page fits the 360 px viewport the browser tests use: nothing scrolls sideways."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px"
