"""Alembic, driven from the app so the database URL comes from the journal's own config."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from flask import Flask

from .db import engine_for

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "migrations")


def alembic_config(app: Flask) -> Config:
    """An Alembic Config pointing at migrations/ and at the app's engine."""
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    cfg.attributes["engine"] = engine_for(app)
    return cfg


def upgrade(app: Flask, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(app), revision)
