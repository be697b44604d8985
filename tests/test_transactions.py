"""Where a request's database transaction begins and how it ends (db.py): reads run outside
any transaction on both databases, BEGIN goes out just before the first write (or row lock),
and whatever a request wrote without committing is rolled back. A request that only read
thus ends nothing on the server, and psycopg keeps its prepared statements (a rollback
discards them all)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from journal.db import engine_for, get_db, session_for
from journal.models import ThrottleCounter
from journal.throttle import SqlStorage

COUNTERS = ThrottleCounter.__table__


def _counted(app, key: str) -> int:
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(COUNTERS)
                         .where(COUNTERS.c.key == key)) or 0


def test_what_a_request_wrote_without_committing_is_not_kept(app):
    expires = time.time() + 60
    with app.test_request_context():  # a plain statement on the request's connection
        get_db().connection().execute(insert(COUNTERS).values(key="plain", count=1,
                                                              expires_at=expires))
    with app.test_request_context():  # an ORM row, flushed by a later read
        db = get_db()
        db.add(ThrottleCounter(key="flushed", count=1, expires_at=expires))
        db.scalar(select(func.count()).select_from(COUNTERS))
    with app.test_request_context():  # an ORM row never flushed
        get_db().add(ThrottleCounter(key="pending", count=1, expires_at=expires))
    with app.test_request_context():  # a read after a write
        db = get_db()
        db.connection().execute(insert(COUNTERS).values(key="then-read", count=1,
                                                        expires_at=expires))
        db.scalar(select(func.count()).select_from(COUNTERS))
    for key in ("plain", "flushed", "pending", "then-read"):
        assert _counted(app, key) == 0, key
    with app.test_request_context():  # committed is kept, of course
        db = get_db()
        db.add(ThrottleCounter(key="committed", count=1, expires_at=expires))
        db.commit()
    assert _counted(app, "committed") == 1


def test_a_request_that_only_read_keeps_what_the_database_prepared(app):
    query = select(COUNTERS.c.count).where(COUNTERS.c.key == bindparam("key"))
    dialect = engine_for(app).dialect.name
    for _ in range(7):  # psycopg prepares a statement on its fifth run on a connection
        with app.test_request_context():
            db = get_db()
            db.execute(query, {"key": "nobody"}).all()
            # Reads run outside any transaction (BEGIN comes before a write only), so a
            # reading request holds no lock and has nothing to end.
            assert not _in_transaction(db.connection())
    # The throttle's own reads (on a connection of their own) keep them too.
    SqlStorage(engine_of=lambda: engine_for(app)).get("nobody")
    if dialect == "postgresql":
        with engine_for(app).connect() as conn:  # the pool's one connection, as the requests'
            prepared = conn.execute(text(
                "SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert any("FROM throttle_counters" in s for s in prepared), prepared


def _in_transaction(conn) -> bool:
    """Whether the database (not SQLAlchemy) has a transaction open on this connection."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        return dbapi.in_transaction
    return dbapi.info.transaction_status != 0  # psycopg's TransactionStatus.IDLE


def test_a_transaction_begins_at_the_first_write_and_holds_every_write_after_it(app):
    expires = time.time() + 60
    with app.test_request_context():
        db = get_db()
        conn = db.connection()
        db.scalar(select(func.count()).select_from(COUNTERS))
        assert not _in_transaction(conn)
        conn.execute(insert(COUNTERS).values(key="first", count=1, expires_at=expires))
        assert _in_transaction(conn)
        # A read between the writes belongs to their transaction: it sees the first one.
        assert db.scalar(select(func.count()).select_from(COUNTERS)
                         .where(COUNTERS.c.key == "first")) == 1
        conn.execute(update(COUNTERS).where(COUNTERS.c.key == "first").values(count=2))
        # Not committed: both writes go together.
    assert _counted(app, "first") == 0
    with app.test_request_context():
        db = get_db()
        db.connection().execute(insert(COUNTERS).values(key="second", count=1,
                                                        expires_at=expires))
        db.commit()
        # After COMMIT the next statements read outside a transaction again.
        db.scalar(select(func.count()).select_from(COUNTERS))
        assert not _in_transaction(db.connection())
    assert _counted(app, "second") == 1


_LOCKING_READS = {
    "for update": select(COUNTERS.c.key).where(COUNTERS.c.key == "locked").with_for_update(),
    "for share, skip locked": select(COUNTERS.c.key).where(COUNTERS.c.key == "locked")
    .with_for_update(read=True, skip_locked=True),
    # The lock in the middle of the statement, far from its end.
    "in a subquery": text("SELECT key FROM throttle_counters WHERE key IN (SELECT key FROM "
                          "throttle_counters WHERE key = 'locked' FOR UPDATE) AND count > 0 "
                          "AND expires_at > 0 AND key NOT IN ('one', 'two', 'three', 'four', "
                          "'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve')"),
}


@pytest.mark.parametrize("statement", list(_LOCKING_READS.values()), ids=list(_LOCKING_READS))
def test_a_locking_read_begins_the_transaction_and_holds_its_lock(app, statement):
    if engine_for(app).dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks (its write lock comes with BEGIN IMMEDIATE)")
    with app.test_request_context():
        db = get_db()
        db.connection().execute(insert(COUNTERS).values(key="locked", count=1,
                                                        expires_at=time.time() + 60))
        db.commit()
        conn = db.connection()
        assert conn.execute(statement).all()
        assert _in_transaction(conn)
        with engine_for(app).connect() as other:
            other.execute(text("SET lock_timeout = '100ms'"))
            with pytest.raises(OperationalError, match="lock"):
                other.execute(update(COUNTERS).where(COUNTERS.c.key == "locked")
                              .values(count=5))


def test_a_transaction_scoped_advisory_lock_begins_the_transaction(app):
    if engine_for(app).dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    with app.test_request_context():
        conn = get_db().connection()
        conn.execute(text("SELECT pg_advisory_xact_lock(6006)"))
        assert _in_transaction(conn)
        with engine_for(app).connect() as other:
            assert other.scalar(text("SELECT pg_try_advisory_xact_lock(6006)")) is False


def test_a_write_session_reads_inside_its_transaction(app):
    with session_for(app, write=True) as db:
        db.scalar(select(func.count()).select_from(COUNTERS))
        assert _in_transaction(db.connection())
        db.rollback()


def test_autocommit_asked_for_by_name_stays_outside_transactions(app):
    # VACUUM (bench/dataset.py) and CREATE DATABASE refuse to run inside a transaction.
    engine = engine_for(app)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM"))


def test_a_streamed_read_runs_inside_a_transaction(app):
    # PostgreSQL DECLAREs a server-side cursor (the export's batches) only in a transaction.
    with app.test_request_context():
        conn = get_db().connection()
        rows = conn.execution_options(stream_results=True, yield_per=10).execute(
            select(COUNTERS.c.key))
        assert rows.fetchmany(10) == []
        if conn.dialect.name == "postgresql":
            assert _in_transaction(conn)


def test_a_connection_reads_outside_a_transaction_again_after_commit(app):
    with engine_for(app).connect() as conn:
        conn.execute(insert(COUNTERS).values(key="core", count=1, expires_at=time.time() + 60))
        conn.commit()
        assert conn.scalar(select(COUNTERS.c.count).where(COUNTERS.c.key == "core")) == 1
        assert not _in_transaction(conn)


def test_a_request_that_failed_keeps_nothing_it_wrote(app):
    with pytest.raises(RuntimeError), app.test_request_context():
        get_db().connection().execute(insert(COUNTERS).values(key="failed", count=1,
                                                              expires_at=time.time() + 60))
        raise RuntimeError("the view failed")
    assert _counted(app, "failed") == 0
