"""Alembic environment: the engine comes from the journal app (see journal/migrate.py)."""

from alembic import context
from sqlalchemy import text

from journal import models  # noqa: F401 - registers every table on Base.metadata
from journal.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode alters a SQLite table by copying it and dropping the old one; with
        # foreign keys on, that DROP would cascade into every referencing table (dropping a
        # column of `cases` once deleted every session and key wrap). Off for the
        # migration, checked after it, and on again before the connection goes back to the
        # pool. (The pragma only takes effect outside a transaction, hence here.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite alters tables by copy
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"rows left without their parent: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
