"""The audit log: who did what, when — never content — chained so that an edited, deleted,
reordered or truncated entry is detected; appends never fork under concurrency."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import delete, select, text, update

from journal import audit, instance_secrets
from journal.db import engine_for, session_for
from journal.models import AuditEvent, AuditHead

from conftest import (
    join_as_client,
    new_case,
    new_session,
    share_reflection,
    sign_in,
)


def verify(app):
    with session_for(app) as db:
        return audit.verify(db, instance_secrets.read(app.instance_path).audit_key,
                            app.instance_path)


def run_verify(app):
    return app.test_cli_runner().invoke(args=["verify-audit"])


def in_threads(work, count: int) -> list[BaseException]:
    """Run work(0) … work(count - 1) in threads at once; return what they raised."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def actions(app) -> list[str]:
    with session_for(app) as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


@pytest.fixture
def logged(app, counsellor):
    """A practice with a case, a signed note, a client who shared a reflection that was read."""
    case_id = new_case(counsellor, "Audit Canary Client")
    session_id = new_session(counsellor, case_id)
    base = f"/cases/{case_id}/sessions/{session_id}/note"
    counsellor.post(base + "/start", {"template": "narrative"})
    counsellor.get(base)
    client = join_as_client(app, counsellor, case_id, "audit-client")
    reflection_id = share_reflection(client, helped="Audit canary reflection words")
    counsellor.get(f"/cases/{case_id}/reflections/{reflection_id}")
    return {"case_id": case_id, "client": client, "reflection_id": reflection_id}


def test_key_actions_are_recorded_without_content(app, counsellor, logged):
    recorded = actions(app)
    for expected in ("practice.set_up", "auth.sign_in", "case.created", "note.viewed",
                     "invitation.created", "invitation.accepted", "reflection.shared",
                     "reflection.viewed"):
        assert expected in recorded, expected
    with engine_for(app).connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM audit_events")).all())
    for canary in ("Audit Canary Client", "Audit canary reflection words", "audit-client"):
        assert canary not in dump


def test_failed_sign_ins_are_recorded_for_known_and_unknown_names(app, counsellor, browser):
    other = type(browser)(app.test_client())
    sign_in(other, "ada", "wrong wrong wrong wrong")
    sign_in(other, "nobody-here", "wrong wrong wrong wrong")
    with session_for(app) as db:
        failed = db.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.sign_in_failed").order_by(AuditEvent.seq)).all()
    assert len(failed) == 2
    assert failed[0].object_id is not None and failed[1].object_id is None
    assert all(e.actor_id is None for e in failed)


def test_a_clean_log_verifies(app, logged):
    verdict = verify(app)
    assert verdict.ok and verdict.entries >= 8
    result = run_verify(app)
    assert result.exit_code == 0 and "intact" in result.output


def test_an_edited_entry_is_detected(app, logged):
    with session_for(app) as db:
        db.execute(update(AuditEvent).where(AuditEvent.action == "reflection.viewed")
                   .values(action="note.saved"))
        db.commit()
    result = run_verify(app)
    assert result.exit_code == 1 and "altered" in result.output


def test_a_deleted_entry_is_detected(app, logged):
    with session_for(app) as db:
        db.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
        db.commit()
    result = run_verify(app)
    assert result.exit_code == 1 and "entry 3 is missing" in result.output


def test_reordered_entries_are_detected(app, logged):
    with session_for(app) as db:
        first, second = db.scalars(select(AuditEvent).where(AuditEvent.seq.in_((4, 5)))
                                   .order_by(AuditEvent.seq)).all()
        fields = ("at", "actor_id", "action", "object_type", "object_id", "case_id", "mac")
        a = {f: getattr(first, f) for f in fields}
        b = {f: getattr(second, f) for f in fields}
        for f in fields:
            setattr(first, f, b[f])
            setattr(second, f, a[f])
        db.commit()
    assert not verify(app).ok


def test_truncation_is_detected_by_the_checkpoints_in_instance(app, logged):
    with session_for(app) as db:
        last = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
        db.execute(delete(AuditEvent).where(AuditEvent.seq > last - 2))
        # A careful intruder also rewinds the head row to match what is left.
        tail = db.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        db.execute(update(AuditHead).values(seq=tail.seq))
        db.commit()
    result = run_verify(app)
    assert result.exit_code == 1 and "cut off the end" in result.output
    assert os.path.exists(os.path.join(app.instance_path, audit.CHECKPOINT_FILE))


def test_a_rolled_back_request_leaves_no_entry_and_no_checkpoint(app, logged):
    before = verify(app).entries
    with app.app_context(), session_for(app) as db:
        audit.record(db, "case.created", actor_id=None, object_type="case")
        db.rollback()
    assert verify(app).entries == before and verify(app).ok


def test_the_client_sees_who_opened_their_reflections(logged):
    page = logged["client"].get("/portal/activity").get_data(as_text=True)
    assert "Your counsellor opened your reflection" in page


def test_the_counsellor_sees_the_case_log_and_the_admin_its_health(counsellor, logged):
    page = counsellor.get(f"/cases/{logged['case_id']}/log").get_data(as_text=True)
    assert "opened a reflection" in page and "your client" in page
    assert "shared a reflection" in page
    admin = counsellor.get("/practice/").get_data(as_text=True)
    assert "intact" in admin


def test_concurrent_appends_never_fork_the_chain(app, counsellor):
    """Six writers at once (on PostgreSQL when JOURNAL_TEST_DATABASE_URL is set, as in CI)."""
    key = instance_secrets.read(app.instance_path).audit_key

    def writer(n: int) -> None:
        for i in range(25):
            with session_for(app) as db:
                audit.record(db, "note.viewed", actor_id=None, object_type="note",
                             object_id=f"{n}-{i}", key=key)
                db.commit()

    assert not in_threads(writer, 6)
    verdict = verify(app)
    assert verdict.ok, verdict.problems
    with session_for(app) as db:
        seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 150


def test_first_entries_at_once_agree_on_who_starts_the_chain(app):
    """Before anything was ever logged there is no head row: writers arriving together must
    not both create it (the loser used to fail on PostgreSQL)."""
    key = instance_secrets.read(app.instance_path).audit_key
    with session_for(app) as db:
        assert db.get(AuditHead, 1) is None
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        with session_for(app) as db:
            start.wait()
            audit.record(db, "note.viewed", actor_id=None, object_type="note",
                         object_id=str(n), key=key)
            db.commit()

    assert not in_threads(writer, 4)
    assert verify(app).ok
    with session_for(app) as db:
        assert list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq))) == [1, 2, 3, 4]


def test_the_callers_pending_changes_are_written_before_the_head_is_locked(app, counsellor):
    # Rows the caller changed must be locked before audit_head is, as every other writer
    # does it: a passphrase change (user row pending, then an append) beside a two-step
    # sign-in (user row updated, then an append) would otherwise each wait for the other
    # on PostgreSQL.
    from bench.scenarios import counting
    from journal.models import User

    with app.app_context(), session_for(app) as db:
        user = db.scalar(select(User).where(User.login_name == "ada"))
        user.totp_last_step = 7
        with counting(app) as statements:
            audit.record(db, "auth.passphrase_changed", actor_id=user.id, object_type="user",
                         object_id=user.id)
        db.rollback()
    writes = [s.split()[0:3] for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert writes[0][:2] == ["UPDATE", "users"] and writes[1][:2] == ["UPDATE", "audit_head"]


def test_an_append_chains_to_the_entry_before_it_even_when_its_update_saw_an_older_one(
        app, logged):
    # On PostgreSQL, a writer that waited for the head row sees, in the rest of that same
    # UPDATE, the log as it was before the other writer's entry (the concurrency test above
    # meets this often there). The previous MAC is then read again in a new statement.
    with session_for(app) as db:
        conn = db.connection()
        last, before = db.execute(select(AuditEvent.seq, AuditEvent.mac)
                                  .order_by(AuditEvent.seq.desc()).limit(2)).all()
        assert audit._previous_mac(conn, last.seq + 1, before.seq, before.mac) == last.mac
        assert audit._previous_mac(conn, last.seq + 1, last.seq, last.mac) == last.mac
        assert audit._previous_mac(conn, 1, None, None) == bytes(32)


def test_after_deleted_entries_the_log_goes_on_and_the_gap_is_reported(app, logged):
    with session_for(app) as db:
        last = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
        db.execute(delete(AuditEvent).where(AuditEvent.seq == last))
        db.commit()
    with app.app_context(), session_for(app) as db:
        seq = audit.record(db, "note.viewed", actor_id=None, object_type="note")
        db.commit()
    assert seq == last + 1
    problems = verify(app).problems
    assert problems == [f"entry {last} is missing (next present is {last + 1})"]


def test_the_head_migration_goes_down_and_up_keeping_the_chain(app, logged):
    # On PostgreSQL as well as SQLite (CI runs both): 0009 drops the head's copy of the last
    # MAC, and its downgrade puts that copy back from the log.
    from alembic import command

    from journal import migrate

    try:
        command.downgrade(migrate.alembic_config(app), "0008")
        with engine_for(app).connect() as conn:
            head = conn.execute(text("SELECT mac FROM audit_head")).scalar()
            last = conn.execute(text("SELECT mac FROM audit_events ORDER BY seq DESC "
                                     "LIMIT 1")).scalar()
        assert bytes(head) == bytes(last)
    finally:
        migrate.upgrade(app)
    with app.app_context(), session_for(app) as db:
        audit.record(db, "note.viewed", actor_id=None, object_type="note")
        db.commit()
    assert verify(app).ok
