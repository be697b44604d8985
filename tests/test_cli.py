"""The operator's commands: prepare, db-upgrade, seed-demo, end-expired-sessions (DESIGN 3.1:
secrets are generated once, never overwritten, and a restore without them is refused).

Always SQLite in tmp_path: these tests are about files on the operator's disk."""

import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, update

from journal import audit, create_app, instance_secrets, migrate
from journal import models as _models  # noqa: F401 - registers every table on Base.metadata
from journal.db import Base, engine_for, session_for
from journal.demo import load_cases
from journal.models import Case, Practice, User, WebSession, utcnow

from conftest import FAST_KDF, PASSPHRASE, Browser, sign_in

SETUP_CODE = re.compile(r"\b[0-9a-f]{5}(?:-[0-9a-f]{5}){3}\b")


@pytest.fixture
def make(tmp_path):
    """Build apps on one instance folder and one SQLite file, like restarting the service."""
    apps = []

    def factory(**overrides):
        config = {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'journal.db'}",
                  **FAST_KDF, **overrides}
        app = create_app(config, instance_path=str(tmp_path / "inst"))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        engine_for(app).dispose()


def run(app, *args):
    """Invoke a command as `flask --app wsgi ...` would: inside the app's context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def secret_bytes(app):
    folder = Path(app.instance_path)
    return {name: (folder / name).read_bytes() for name in instance_secrets.NAMES
            if (folder / name).exists()}


def claim_practice(app, code, login="ada"):
    """Use a printed set-up code on the set-up page; returns the signed-in browser."""
    browser = Browser(app.test_client())
    resp = browser.post("/setup", {"setup_code": code, "practice_name": "Harbour Counselling",
                                   "login_name": login, "passphrase": PASSPHRASE,
                                   "confirm": PASSPHRASE})
    assert resp.status_code == 200
    assert 'id="recovery-code"' in resp.get_data(as_text=True)
    return browser


def head_revision(app):
    return ScriptDirectory.from_config(migrate.alembic_config(app)).get_current_head()


def db_revision(app):
    with engine_for(app).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def count(app, model):
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(model))


# --- prepare ------------------------------------------------------------------------------------


def test_prepare_on_an_empty_instance(make):
    app = make()
    assert secret_bytes(app) == {}
    result = run(app, "prepare")
    assert result.exit_code == 0, result.output
    assert "Created instance secrets: secret_key, pepper, audit_key" in result.output

    for name in instance_secrets.NAMES:
        path = os.path.join(app.instance_path, name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
        content = Path(path).read_text()
        assert re.fullmatch(r"[0-9a-f]{64}\n", content), name  # 256 random bits
    assert len(set(secret_bytes(app).values())) == 3
    assert stat.S_IMODE(os.stat(app.instance_path).st_mode) == 0o700

    assert db_revision(app) == head_revision(app)
    assert set(Base.metadata.tables) <= set(inspect(engine_for(app)).get_table_names())

    codes = SETUP_CODE.findall(result.output)
    assert len(codes) == 1
    claim_practice(app, codes[0])
    assert count(app, Practice) == 1


def test_prepare_again_keeps_secrets_and_prints_no_code_once_set_up(make):
    app = make()
    first = run(app, "prepare")
    secrets_before = secret_bytes(app)
    old_code = SETUP_CODE.search(first.output).group(0)

    # Not set up yet: a new code, which replaces the old one.
    second = run(app, "prepare")
    assert second.exit_code == 0, second.output
    assert "Created instance secrets" not in second.output
    new_code = SETUP_CODE.search(second.output).group(0)
    assert new_code != old_code
    assert secret_bytes(app) == secrets_before

    browser = Browser(app.test_client())
    resp = browser.post("/setup", {"setup_code": old_code, "practice_name": "X",
                                   "login_name": "ada", "passphrase": PASSPHRASE,
                                   "confirm": PASSPHRASE})
    assert 'id="recovery-code"' not in resp.get_data(as_text=True)
    assert count(app, Practice) == 0
    claim_practice(app, new_code)

    # Set up: nothing new, and the secret files are byte for byte the same.
    for _ in range(2):
        again = run(make(), "prepare")
        assert again.exit_code == 0, again.output
        assert "The practice is set up and the database is up to date." in again.output
        assert not SETUP_CODE.search(again.output)
        assert "Created instance secrets" not in again.output
        assert secret_bytes(app) == secrets_before
    # And the practice still works with those secrets.
    assert sign_in(Browser(make().test_client()), "ada").status_code == 302


@pytest.mark.parametrize("lost", instance_secrets.NAMES)
def test_prepare_refuses_a_restore_without_its_secrets(make, lost):
    app = make()
    code = SETUP_CODE.search(run(app, "prepare").output).group(0)
    claim_practice(app, code)
    engine_for(app).dispose()
    kept = secret_bytes(app)
    os.remove(os.path.join(app.instance_path, lost))

    restarted = make()
    result = run(restarted, "prepare")
    assert result.exit_code != 0
    assert f"lacks {lost}" in result.output
    assert "already has users" in result.output
    assert "restore" in result.output
    assert "Traceback" not in result.output
    assert not SETUP_CODE.search(result.output)
    # Nothing was regenerated; the remaining secrets are untouched.
    assert not os.path.exists(os.path.join(app.instance_path, lost))
    del kept[lost]
    assert secret_bytes(restarted) == kept

    seeded = run(restarted, "seed-demo")
    assert seeded.exit_code != 0
    assert f"lacks {lost}" in seeded.output
    assert not os.path.exists(os.path.join(app.instance_path, lost))
    assert count(restarted, User) == 1


def test_prepare_fills_in_a_missing_secret_while_there_are_no_users(make):
    app = make()
    run(app, "prepare")
    before = secret_bytes(app)
    os.remove(os.path.join(app.instance_path, "audit_key"))
    result = run(make(), "prepare")
    assert result.exit_code == 0, result.output
    assert "Created instance secrets: audit_key" in result.output
    after = secret_bytes(app)
    assert after["pepper"] == before["pepper"] and after["secret_key"] == before["secret_key"]
    assert after["audit_key"] != before["audit_key"]


def test_web_app_refuses_to_work_without_its_pepper(make):
    """After a restore without instance/pepper the web app answers with an error page, never
    a stack trace, and never signs anyone in or makes a new pepper."""
    app = make()
    code = SETUP_CODE.search(run(app, "prepare").output).group(0)
    claim_practice(app, code)
    engine_for(app).dispose()
    os.remove(os.path.join(app.instance_path, "pepper"))

    restarted = make(TESTING=False)  # as in production: errors are rendered, not raised
    client = restarted.test_client()
    for method, url, data in [("get", "/", None), ("get", "/login", None),
                              ("post", "/login", {"login_name": "ada",
                                                  "passphrase": PASSPHRASE})]:
        resp = getattr(client, method)(url, data=data)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 500, (url, resp.status_code, body[:500])
        assert "Something went wrong" in body
        for internal in ("Traceback", "MissingSecret", "lacks", restarted.instance_path,
                         "instance_secrets", ".py"):
            assert internal not in body, (url, internal)
        assert resp.headers.getlist("Set-Cookie") == []  # no sign-in, no CSRF session
        assert resp.headers["Cache-Control"] == "no-store"
    assert not os.path.exists(os.path.join(app.instance_path, "pepper"))
    assert count(restarted, WebSession) == 1  # only the session from set-up


# --- seed-demo ----------------------------------------------------------------------------------


def test_seed_demo_on_an_empty_instance(make):
    app = make()
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert "login:      demo-counsellor" in result.output
    passphrase = re.search(r"passphrase: (\S+)", result.output).group(1)
    assert len(passphrase) >= 12
    assert secret_bytes(app).keys() == set(instance_secrets.NAMES)
    assert db_revision(app) == head_revision(app)
    assert count(app, Case) == len(load_cases())

    browser = Browser(app.test_client())
    assert sign_in(browser, "demo-counsellor", "not the passphrase at all").status_code == 200
    resp = sign_in(browser, "demo-counsellor", passphrase)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # Two-step sign-in is on for the demo counsellor; a printed backup code stands in.
    backup = re.search(r"backup codes:\n  (\S+)", result.output).group(1)
    assert browser.post("/login/two-factor", {"code": backup}).status_code == 302
    dashboard = browser.get("/").get_data(as_text=True)
    for case in load_cases():
        assert case["client"]["name"] in dashboard
    with session_for(app) as db:
        demo = db.scalar(select(User).where(User.login_name == "demo-counsellor"))
        assert demo.is_admin and demo.recovery_confirmed
        assert db.scalar(select(Practice.name)) == "Demo Practice"


def test_seed_demo_twice_refuses_politely(make):
    app = make()
    first = run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    secrets_before = secret_bytes(app)
    second = run(make(), "seed-demo")
    assert second.exit_code == 0, second.output
    assert "already exists" in second.output
    assert "passphrase:" not in second.output
    assert count(app, User) == 1 + len(load_cases())  # the counsellor and one client per case
    assert count(app, Case) == len(load_cases())
    assert secret_bytes(app) == secrets_before


def test_seed_demo_joins_an_existing_practice_without_taking_it_over(make):
    app = make()
    claim_practice(app, SETUP_CODE.search(run(app, "prepare").output).group(0))
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    with session_for(app) as db:
        demo = db.scalar(select(User).where(User.login_name == "demo-counsellor"))
        assert not demo.is_admin
        assert db.scalar(select(Practice.name)) == "Harbour Counselling"
        assert db.scalar(select(func.count()).select_from(Practice)) == 1


# --- database -----------------------------------------------------------------------------------


def test_db_upgrade(make):
    app = make()
    result = run(app, "db-upgrade")
    assert result.exit_code == 0, result.output
    assert "Database upgraded to head." in result.output
    assert db_revision(app) == head_revision(app)
    assert set(Base.metadata.tables) <= set(inspect(engine_for(app)).get_table_names())
    again = run(app, "db-upgrade")
    assert again.exit_code == 0, again.output
    assert db_revision(app) == head_revision(app)


def test_migrations_match_the_models(make):
    app = make()
    migrate.upgrade(app)
    with engine_for(app).connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True,
            "target_metadata": Base.metadata})
        assert compare_metadata(context, Base.metadata) == []


def test_end_expired_sessions(make):
    app = make()
    claim_practice(app, SETUP_CODE.search(run(app, "prepare").output).group(0))
    result = run(app, "end-expired-sessions")
    assert result.exit_code == 0, result.output
    assert "Ended 0 expired session(s);" in result.output
    assert count(app, WebSession) == 1
    with session_for(app) as db:
        db.execute(update(WebSession).values(last_seen=utcnow() - timedelta(hours=1)))
        db.commit()
    result = run(app, "end-expired-sessions")
    assert "Ended 1 expired session(s);" in result.output
    assert count(app, WebSession) == 0


def test_migrating_down_and_up_keeps_every_row_on_sqlite(make):
    # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
    # that DROP once cascaded into every table referencing it (a downgrade of `cases` took
    # every session and key wrap with it). migrations/env.py turns them off meanwhile.
    from alembic import command

    from conftest import future, new_case, new_session, set_up_practice, shown

    app = make()
    migrate.upgrade(app)
    instance_secrets.create_missing(app.instance_path, practice_has_users=False)
    browser = Browser(app.test_client())
    set_up_practice(app, browser)
    case_id = new_case(browser)
    new_session(browser, case_id, future(1, 5).isoformat(), attendance="scheduled")
    assert browser.get(f"/cases/{case_id}").status_code == 200  # the session keeps key copies
    tables = ["users", "cases", "case_keys", "case_sessions", "web_sessions",
              "directory_entries", "audit_events"]

    def counts(names):
        with engine_for(app).connect() as conn:
            return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()  # noqa: S608
                    for t in names}

    before = counts([*tables, "session_keys"])
    assert before["session_keys"] > 0 and all(before.values())
    command.downgrade(migrate.alembic_config(app), "0008")
    with engine_for(app).connect() as conn:  # the head's MAC comes back as the last entry's
        assert conn.exec_driver_sql("SELECT mac FROM audit_head").scalar() == conn.exec_driver_sql(
            "SELECT mac FROM audit_events ORDER BY seq DESC LIMIT 1").scalar()
    command.downgrade(migrate.alembic_config(app), "0005")
    assert counts(tables) == {t: before[t] for t in tables}
    migrate.upgrade(app)
    assert counts(tables) == {t: before[t] for t in tables}
    with engine_for(app).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert shown(future(1, 5)) in browser.get("/").get_data(as_text=True)
    with app.app_context(), session_for(app) as db:
        assert audit.verify(db, instance_secrets.read(app.instance_path).audit_key,
                            app.instance_path).ok
