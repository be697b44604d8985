"""How a request's database transaction ends (db.py, _close_db): whatever it wrote without
committing is rolled back; a PostgreSQL transaction that only read is committed, which keeps
psycopg's prepared statements (a rollback discards them all)."""

from __future__ import annotations

import time

from sqlalchemy import bindparam, func, insert, select, text

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
            if dialect == "sqlite":
                # SQLite reads run outside any transaction (BEGIN comes before a write only),
                # so a reading request holds no lock and has nothing to end.
                assert not db.connection().connection.dbapi_connection.in_transaction
    # The throttle's own reads (on a connection of their own) keep them too.
    SqlStorage(engine_of=lambda: engine_for(app)).get("nobody")
    if dialect == "postgresql":
        with engine_for(app).connect() as conn:  # the pool's one connection, as the requests'
            prepared = conn.execute(text(
                "SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert any("FROM throttle_counters" in s for s in prepared), prepared
