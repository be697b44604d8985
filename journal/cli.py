"""Flask commands: prepare, db-upgrade, seed-demo, end-expired-sessions."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, inspect, select

from . import instance_secrets, migrate
from .auth import web_sessions
from .auth.service import issue_setup_code, practice_exists
from .db import engine_for, session_for
from .models import User


def _users_exist(app: Flask) -> bool:
    if "users" not in inspect(engine_for(app)).get_table_names():
        return False
    with session_for(app) as db:
        return bool(db.scalar(select(func.count()).select_from(User)))


def prepare_instance(app: Flask) -> str | None:
    """Create missing secrets, apply migrations; on an empty practice return a new set-up code."""
    created = instance_secrets.create_missing(app.instance_path, _users_exist(app))
    if created:
        click.echo(f"Created instance secrets: {', '.join(created)} (in {app.instance_path}).")
    migrate.upgrade(app)
    with session_for(app) as db:
        if practice_exists(db):
            return None
        code = issue_setup_code(db)
        db.commit()
        return code


@click.command("prepare")
@with_appcontext
def prepare_command() -> None:
    """Create instance secrets if missing, apply migrations, print a set-up code if needed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        code = prepare_instance(app)
    except instance_secrets.MissingSecret as exc:
        raise click.ClickException(str(exc)) from exc
    if code:
        bar = "=" * 64
        click.echo(f"\n{bar}\n  Welcome. To set up your practice, open http://127.0.0.1:5000/\n"
                   f"  and enter this one-time set-up code:\n\n      {code}\n\n"
                   f"  (Only someone who can see this terminal can claim the practice.)\n{bar}\n")
    else:
        click.echo("The practice is set up and the database is up to date.")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--production", is_flag=True, envvar="JOURNAL_PRODUCTION",
              help="Treat every self-check finding as fatal (gunicorn always does).")
def serve_command(host: str, port: int, production: bool) -> None:
    """Self-check, then serve with Werkzeug (for a single machine; see docs for gunicorn)."""
    from werkzeug.serving import run_simple

    from . import selfcheck

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for message in selfcheck.fatal(app, production):
        click.echo(f"Refusing to start: {message}", err=True)
    if selfcheck.fatal(app, production):
        raise SystemExit(2)
    for problem in selfcheck.problems(app):
        click.echo(f"Warning: {problem.message}", err=True)
    click.echo(f"Serving the journal on http://{host}:{port}/ (Ctrl+C to stop).")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("db-upgrade")
@with_appcontext
@click.option("--revision", default="head", show_default=True)
def db_upgrade_command(revision: str) -> None:
    """Apply database migrations."""
    migrate.upgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"Database upgraded to {revision}.")


@click.command("end-expired-sessions")
@with_appcontext
def end_expired_sessions_command() -> None:
    """Delete expired sign-in sessions and the key wraps of expired invitations (for cron)."""
    from .portal.invitations import forget_expired
    from .security import timeouts

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.test_request_context(), session_for(app) as db:
        ended = web_sessions.purge_expired(db, timeouts())
        forgotten = forget_expired(db)
        db.commit()
    click.echo(f"Ended {ended} expired session(s); "
               f"deleted the keys of {forgotten} expired invitation(s).")


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check the audit log's HMAC chain, its head and the checkpoints in instance/."""
    from . import audit

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        key = instance_secrets.read(app.instance_path).audit_key
    except instance_secrets.MissingSecret as exc:
        raise click.ClickException(str(exc)) from exc
    with session_for(app) as db:
        verdict = audit.verify(db, key, app.instance_path)
    if verdict.ok:
        click.echo(f"Audit log intact: {verdict.entries} entries, chain and checkpoints agree.")
        return
    for problem in verdict.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    raise SystemExit(1)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create a demo counsellor with three realistic cases (on an empty instance too)."""
    from .seed import seed_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        prepare_instance(app)
        seed_demo(app, click.echo)
    except instance_secrets.MissingSecret as exc:
        raise click.ClickException(str(exc)) from exc


def init_app(app: Flask) -> None:
    """Register the commands."""
    from .export.cli import anonymise_command, export_case_command

    for command in (prepare_command, serve_command, db_upgrade_command,
                    end_expired_sessions_command, verify_audit_command, seed_demo_command,
                    anonymise_command, export_case_command):
        app.cli.add_command(command)
