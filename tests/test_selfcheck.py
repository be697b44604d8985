"""The start-up self-check refuses unsafe production configurations and says how to fix them;
it runs when serving, never inside create_app() or for other commands."""

from __future__ import annotations

import os

import pytest

from journal import create_app, instance_secrets, selfcheck

from conftest import FAST_KDF


@pytest.fixture
def make(tmp_path):
    def build(**config):
        instance = tmp_path / "inst"
        base = {"DATABASE_URL": f"sqlite:///{instance / 'journal.db'}", **config}
        return create_app(base, instance_path=str(instance))
    return build


def with_secrets(app):
    instance_secrets.create_missing(app.instance_path, practice_has_users=False)
    return app


def test_a_sound_configuration_passes(make):
    app = with_secrets(make())
    assert selfcheck.problems(app) == []
    assert selfcheck.fatal(app, production=True) == []


def test_create_app_itself_runs_no_check(make):
    app = make(DATABASE_URL="postgresql+psycopg://journal@db.example.org/journal")
    assert app  # no exception: the check is not part of the factory
    assert not os.path.exists(os.path.join(app.instance_path, "pepper"))


@pytest.mark.parametrize(("config", "debug", "needle"), [
    ({}, True, "Debug mode is on"),
    ({"SECRET_KEY": "dev"}, False, "SECRET_KEY is weak"),
    ({"SECRET_KEY": "short-but-not-default"}, False, "SECRET_KEY is weak"),
    ({"DATABASE_URL": "postgresql+psycopg://journal@db.example.org/journal"}, False,
     "without a password"),
    ({"DATABASE_URL": "postgresql+psycopg://journal:@10.0.0.5/journal"}, False,
     "without a password"),
    ({"KDF_MEMORY_KIB": 1024}, False, "Argon2id parameters"),
])
def test_production_refuses_unsafe_settings(make, config, debug, needle):
    app = with_secrets(make(**config))
    app.debug = debug
    messages = selfcheck.fatal(app, production=True)
    assert any(needle in m for m in messages), messages


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@localhost/test",
    "postgresql+psycopg://postgres@[::1]/test",
    "postgresql+psycopg:///journal",
])
def test_no_password_is_fine_on_loopback(make, url):
    app = with_secrets(make(DATABASE_URL=url))
    assert selfcheck.problems(app) == []


def test_a_missing_pepper_stops_even_a_development_server(make):
    app = with_secrets(make())
    os.remove(os.path.join(app.instance_path, "pepper"))
    messages = selfcheck.fatal(app, production=False)
    assert messages and "pepper" in messages[0] and "restore" in messages[0]


def test_weak_test_kdf_is_only_allowed_by_test_config(make):
    app = with_secrets(make(**FAST_KDF))
    assert selfcheck.problems(app) == []  # ALLOW_WEAK_KDF comes with FAST_KDF
    app = with_secrets(make(KDF_MEMORY_KIB=256))
    assert selfcheck.fatal(app, production=True)


def test_serve_command_refuses_and_explains(make):
    app = with_secrets(make(SECRET_KEY="dev"))
    result = app.test_cli_runner().invoke(args=["serve", "--production"])
    assert result.exit_code == 2
    assert "Refusing to start: SECRET_KEY is weak" in result.output
