"""Alembic environment: the engine comes from the journal app (see journal/migrate.py)."""

from alembic import context

from journal import models  # noqa: F401 - registers every table on Base.metadata
from journal.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
