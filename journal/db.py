"""Engine, declarative base and the per-request database session."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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


def make_engine(url: str) -> Engine:
    """An engine for the configured URL, with SQLite's pragmas set on every connection."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def engine_for(app: Flask) -> Engine:
    """The app's engine, created on first use so create_app stays free of I/O."""
    engine = app.extensions.get("journal_engine")
    if engine is None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["journal_engine"] = engine
        app.extensions["journal_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    return engine


def session_for(app: Flask) -> Session:
    """A new database session for work outside a request (CLI commands, tests)."""
    engine_for(app)
    return app.extensions["journal_sessionmaker"]()


def get_db() -> Session:
    """The current request's database session."""
    if "db" not in g:
        g.db = session_for(current_app._get_current_object())  # type: ignore[attr-defined]
    return g.db


def _close_db(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


def init_app(app: Flask) -> None:
    """Close the request's session at teardown, rolling back on error."""
    app.teardown_appcontext(_close_db)
