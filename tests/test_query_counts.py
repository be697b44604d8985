"""No N+1: the busiest pages run the same number of SQL statements with 1 row and with 300
(statements counted with a before_cursor_execute listener on the real database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bench.scenarios import statements_for as bench_statements_for
from journal.auth import service as auth
from journal.cases import notes, questions, sessions
from journal.cases import service as cases
from journal.db import session_for
from journal.keyring import Keyring
from journal.models import ATTENDED, Case, User
from journal.portal import reflections

from conftest import (
    PASSPHRASE,
    join_as_client,
    new_case,
    sign_in,
)


def statements_for(app, browser, url: str) -> int:
    # The benchmark's counter (bench/scenarios.py): one listener, for the bench and the tests.
    return bench_statements_for(app, browser.client, url)


def keyring_for(app, db, login: str) -> Keyring:
    from journal import crypto, instance_secrets

    kdf = auth.KdfSettings(
        crypto.KdfParams(app.config["KDF_MEMORY_KIB"], app.config["KDF_ITERATIONS"],
                         app.config["KDF_LANES"]), True,
        instance_secrets.load(app).pepper)
    unlocked = auth.authenticate(db, login, PASSPHRASE, kdf)
    return Keyring(db, unlocked.user, unlocked.private_key)


def grow(app, counsellor_login: str, client_login: str | None, n: int) -> None:
    """Add n of everything a page lists, through the services (fast: no HTTP)."""
    with app.app_context(), session_for(app) as db:
        me = keyring_for(app, db, counsellor_login)
        case = db.scalar(select(Case).where(Case.counsellor_id == me.user.id)
                         .order_by(Case.created_at))
        for i in range(n):
            cases.create_case(db, me, cases.ClientProfile(name=f"Client {i}"))
        first = date(2020, 1, 6)
        for i in range(n):
            s = sessions.add_session(db, case, first + timedelta(days=i), 50, ATTENDED)
            db.flush()
            questions.ask(db, me, s, f"Question {i}?")
            if i % 3 == 0:
                notes.start_note(db, me, s, "soap")
        if client_login:
            client = keyring_for(app, db, client_login)
            for i in range(n):
                r = reflections.start(db, client, case)
                db.flush()
                content = reflections.ReflectionContent(helped=f"Walk {i}", week_rating=i % 11)
                if i % 2 == 0:  # the first one is shared, so both sizes list shared ones
                    reflections.share(db, client, r, content, r.edit_version)
                else:
                    reflections.save_draft(db, client, r, content, r.edit_version)
        db.commit()


@pytest.fixture
def practice(app, counsellor):
    case_id = new_case(counsellor, "First Client")
    counsellor.post(f"/cases/{case_id}/sessions/new", {
        "held_on": "2019-12-30", "duration_minutes": "50", "attendance": "attended"})
    client = join_as_client(app, counsellor, case_id, "first-client")
    return {"case_id": case_id, "client": client}


def test_pages_cost_the_same_number_of_statements_with_1_and_300_rows(app, counsellor,
                                                                      practice):
    case_id, client = practice["case_id"], practice["client"]
    pages = {
        "dashboard": (counsellor, "/"),
        "timeline": (counsellor, f"/cases/{case_id}"),
        "brief": (counsellor, f"/cases/{case_id}/brief"),
        "questions": (counsellor, f"/cases/{case_id}/questions"),
        "client home": (client, "/portal/"),
    }
    grow(app, "ada", "first-client", 1)
    small = {name: statements_for(app, b, url) for name, (b, url) in pages.items()}
    grow(app, "ada", "first-client", 299)
    large = {name: statements_for(app, b, url) for name, (b, url) in pages.items()}
    assert large == small, {"1 row": small, "300 rows": large}
    assert small["dashboard"] <= 5, small


def test_the_counsellor_still_signs_in_after_growth(app, counsellor, practice):
    grow(app, "ada", None, 5)
    with session_for(app) as db:
        assert db.scalar(select(User).where(User.login_name == "ada")) is not None
    fresh = type(counsellor)(app.test_client())
    assert sign_in(fresh, "ada").status_code == 302
