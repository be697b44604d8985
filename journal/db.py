"""Engine, declarative base and the per-request database session.

Statements. SQLAlchemy caches a statement's compiled SQL, not the building of the statement
object: building a select with joins and a subquery costs ~1 ms here, four times what
running it against SQLite costs. The queries every page runs are therefore built once (a
`functools.cache`d function) with `bindparam()`s, and bound per request. Those that return
only columns run through `read_columns`, on the session's connection (see there).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Executable, Insert, MetaData, Result, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

# Deterministic constraint names, so Alembic migrations are the same on every machine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions itself: _sqlite_begin and _sqlite_begin_before_write
    # do it (SQLAlchemy's "emit BEGIN yourself" recipe for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL for concurrent readers; busy_timeout instead of "database is locked";
    # secure_delete so erased ciphertext is overwritten, not left in free pages (DESIGN 3.7).
    for pragma in (
        "journal_mode=WAL",
        "busy_timeout=5000",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


# SQLite transactions (WAL mode). Two rules decide where BEGIN goes:
#
# - A write transaction starts with BEGIN IMMEDIATE, which takes the write lock at once and so
#   waits its turn (busy_timeout) behind other writers. A plain, deferred BEGIN followed by
#   reads and then a write cannot wait: once another writer has committed since its first
#   read, SQLite refuses the upgrade at once with "database is locked" (SQLITE_BUSY_SNAPSHOT;
#   busy_timeout is not consulted).
# - Readers must not take that lock, or every page would queue behind every other.
#
# So by default a transaction is opened lazily: reads run outside any transaction (as under
# pysqlite's own handling) and BEGIN IMMEDIATE is sent just before the first statement that
# writes. GET pages write now and then (the once-a-minute session touch, "viewed" audit
# entries, read receipts) after having read, so a deferred BEGIN at their first read would
# make exactly those writes fail under load. Request sessions are lazy whatever the method:
# a state-changing request writes throttle counters on a second connection of the same
# thread (SQL throttle storage, before and after the view), which would wait for its own
# request's lock if that request held BEGIN IMMEDIATE from its first read. Code that
# needs its reads inside the write transaction too (batch jobs and CLI writes that read,
# decide, then write) asks for session_for(app, write=True): BEGIN IMMEDIATE before the first
# statement of every transaction. The app's own read-decide-write steps do not depend on it:
# they use conditional UPDATEs (edit versions, TOTP steps), and the audit chain's UPDATE of
# audit_head comes first.
_BEGIN_OPTION = "journal_begin"
_READS = ("SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE")
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:10].upper()
    if head.startswith("WITH"):
        return bool(_WRITE_WORDS.search(statement))
    return not head.startswith(_READS)


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_BEGIN_OPTION) == "immediate":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    # Otherwise nothing yet: _sqlite_begin_before_write opens it when the first write comes.


def _autocommit_asked(conn: Connection) -> bool:
    # isolation_level="AUTOCOMMIT" asked for by name (VACUUM, CREATE DATABASE): no
    # transaction at all, whatever the statement.
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _sqlite_begin_before_write(conn: Connection, cursor: Any, statement: str, *_args: Any
                               ) -> None:
    dbapi_connection = cursor.connection
    if (not dbapi_connection.in_transaction and _writes(statement)
            and not _autocommit_asked(conn)):
        dbapi_connection.execute("BEGIN IMMEDIATE")


# PostgreSQL follows the same rule: reads run outside any transaction (psycopg's autocommit)
# and BEGIN goes out just before the first statement that writes or locks rows.
# - A page that only reads sends no BEGIN and no COMMIT: 3 round trips instead of 5 for the
#   dashboard (pre-ping, its two statements). On loopback that is little; to a database on
#   another host each round trip is network latency added to every page.
# - Nothing is left to end, so psycopg keeps its prepared statements (it forgets them on every
#   ROLLBACK: a reading page ended by the pool's ROLLBACK had its queries planned afresh).
# - Under READ COMMITTED (PostgreSQL's default, which the app assumes) each statement sees the
#   rows as committed when it starts, inside a transaction or not, so a read sees what it saw
#   before. What a transaction adds (writes that stand or fall together, row locks held until
#   COMMIT) begins with the first write, SELECT … FOR UPDATE/SHARE or transaction-scoped
#   advisory lock, as before. So does a read through a server-side cursor, which PostgreSQL
#   only allows inside a transaction.
# - session_for(app, write=True), or an isolation level asked for by name, opens the
#   transaction at the first statement as psycopg does by default.
_LOCKING_READ = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|ADVISORY_XACT_LOCK")
_IDLE = 0  # psycopg's pq.TransactionStatus.IDLE: no transaction open on the server


def _starts_transaction(statement: str) -> bool:
    if _writes(statement):
        return True
    # Anywhere in the statement (a subquery's FOR UPDATE, a long OF list); the substring
    # test spares most reads the regular expression.
    upper = statement.upper()
    return (("FOR " in upper or "ADVISORY_XACT" in upper)
            and _LOCKING_READ.search(upper) is not None)


def _pg_begin(conn: Connection) -> None:
    # Each transaction SQLAlchemy begins (a session's, or a Core connection's after COMMIT)
    # reads in autocommit, unless it asked for its reads inside the transaction.
    options = conn.get_execution_options()
    if "isolation_level" in options:
        return  # SQLAlchemy set the connection up as asked (AUTOCOMMIT, SERIALIZABLE, ...)
    wanted = options.get(_BEGIN_OPTION) != "immediate"
    dbapi_connection = conn.connection.dbapi_connection
    if (dbapi_connection.autocommit != wanted
            and dbapi_connection.info.transaction_status == _IDLE):
        dbapi_connection.autocommit = wanted


def _pg_begin_before_write(conn: Connection, cursor: Any, statement: str, *_args: Any
                           ) -> None:
    dbapi_connection = cursor.connection
    # A server-side cursor (stream_results: the export's batches) is DECLAREd, which only a
    # transaction allows; psycopg's ServerCursor is the one with a name.
    if (dbapi_connection.autocommit
            and (getattr(cursor, "name", None) or _starts_transaction(statement))
            and not _autocommit_asked(conn)
            and dbapi_connection.info.transaction_status == _IDLE):
        dbapi_connection.autocommit = False


def _sqlite_no_driver_transactions(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # A connection used with isolation_level="AUTOCOMMIT" comes back from the pool's reset with
    # pysqlite's own deferred BEGIN turned on again ("" rather than None).
    if dbapi_connection.isolation_level is not None:
        dbapi_connection.isolation_level = None


def make_engine(url: str) -> Engine:
    """An engine for the configured URL: reads outside transactions, BEGIN (IMMEDIATE on
    SQLite) before the first write (see above); on SQLite with its pragmas."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkout", _sqlite_no_driver_transactions)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_begin_before_write)
    else:
        event.listen(engine, "begin", _pg_begin)
        event.listen(engine, "before_cursor_execute", _pg_begin_before_write)
    return engine


def insert_unless_present(conn: Connection, table: Table, *key: str) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING, in the connection's dialect: a row another
    transaction added first is left as it is instead of failing the whole statement."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(key))


def engine_for(app: Flask) -> Engine:
    """The app's engine, created on first use so create_app stays free of I/O."""
    engine = app.extensions.get("journal_engine")
    if engine is None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["journal_engine"] = engine
        app.extensions["journal_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        # Same pool; the option only changes where BEGIN goes (see above).
        app.extensions["journal_write_sessionmaker"] = sessionmaker(
            engine.execution_options(**{_BEGIN_OPTION: "immediate"}), expire_on_commit=False)
    return engine


def session_for(app: Flask, write: bool = False) -> Session:
    """A new database session for work outside a request (CLI commands, tests).

    write=True: every transaction of this session begins at its first statement (BEGIN
    IMMEDIATE on SQLite), so its reads and writes form one unit; on SQLite it waits for other
    writers instead of failing.
    """
    engine_for(app)
    key = "journal_write_sessionmaker" if write else "journal_sessionmaker"
    return app.extensions[key]()


def get_db() -> Session:
    """The current request's database session."""
    if "db" not in g:
        g.db = session_for(current_app._get_current_object())  # type: ignore[attr-defined]
    return g.db


def read_columns(db: Session, statement: Executable, params: dict[str, Any]) -> Result:
    """Run a read that returns only columns on the session's connection and transaction.

    Session.execute sends any statement naming mapped attributes through the ORM's execution
    path, ~50 µs a statement even when the rows are plain tuples; the list pages read only
    columns. Nothing is flushed first: use it where the request has no pending ORM changes
    these rows should reflect (the ORM's autoflush is what is skipped)."""
    return db.connection().execute(statement, params)


def now_holds(obj: Base, **values: Any) -> None:
    """After a plain UPDATE of its row: the mapped object holds the values written, as
    committed state, so it is not written again (a change to those attributes still pending
    on it is dropped, as the row now says)."""
    for name, value in values.items():
        set_committed_value(obj, name, value)


def keep_in_step(db: Session, model: type[Base], row_id: str, **values: Any) -> None:
    """now_holds() for the mapped object of that row, if this session has loaded it."""
    loaded = db.identity_map.get(Session.identity_key(model, row_id))
    if loaded is not None:
        now_holds(loaded, **values)


def _close_db(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()  # rolls back whatever the request did not commit


def init_app(app: Flask) -> None:
    """Close the request's session at teardown; whatever it did not commit is rolled back."""
    app.teardown_appcontext(_close_db)
