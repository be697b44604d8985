"""`flask anonymise` (no database, no secrets) and `flask export-case` (the client's copy)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import batch


@click.command("anonymise")
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="IN.json: cases with the names you know and their texts.")
@click.option("--output", "output_path", required=True, type=click.Path(path_type=Path),
              help="OUT.json: the same texts, anonymised, and what was flagged.")
def anonymise_command(input_path: Path, output_path: Path) -> None:
    """De-identify texts from elsewhere with the same anonymiser as the web export.

    Needs no database, no secrets and no set-up. On bad input nothing is written and the
    exit code is 2.
    """
    try:
        cases = batch.read_input(input_path)
    except batch.BadInput as exc:
        click.echo(f"Could not read the input: {exc}", err=True)
        raise SystemExit(2) from None
    if output_path.exists() and output_path.is_dir():
        click.echo(f"Could not write the output: {output_path} is a folder.", err=True)
        raise SystemExit(2)
    if not output_path.parent.exists() and str(output_path.parent):
        click.echo(f"Could not write the output: no folder {output_path.parent}.", err=True)
        raise SystemExit(2)
    result = batch.anonymise_cases(cases)
    data = json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    batch.write_atomically(output_path, data)
    flagged = sum(len(case["flagged"]) for case in result["cases"])
    click.echo(f"Anonymised {len(cases)} case(s) into {output_path}; "
               f"{flagged} term(s) flagged for a person to check.")


def _sign_in(db, login: str, passphrase: str):  # noqa: ANN001, ANN202 - click plumbing
    from .. import audit
    from ..auth import service as auth_service
    from ..auth import two_factor
    from ..auth.context import kdf_settings

    try:
        account = auth_service.authenticate(db, login, passphrase, kdf_settings())
    except auth_service.BadCredentials as exc:
        audit.record_user(db, "auth.sign_in_failed", exc.user_id, by_user=False)
        db.commit()
        click.echo("That login and passphrase do not match an account.", err=True)
        raise SystemExit(1) from None
    if not account.user.is_counsellor:
        click.echo("Only a counsellor can export a case.", err=True)
        raise SystemExit(1)
    if two_factor.is_on(account.user):
        code = click.prompt("Code from your authenticator app (or a backup code)",
                            err=True).strip()
        try:
            two_factor.verify(db, account.user, account.private_key, code,
                              kdf_settings().pepper)
        except two_factor.WrongCode:
            db.rollback()
            click.echo("That code did not work.", err=True)
            raise SystemExit(1) from None
    return account


@click.command("export-case")
@click.option("--case", "pseudonym", required=True, help="The case's reference, e.g. C-7F3K.")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "pdf"]), required=True)
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the file (written whole, or not at all).")
@click.option("--login", default=None, help="Your login name (asked if not given).")
@click.option("--passphrase-stdin", is_flag=True,
              help="Read the passphrase from the first line of standard input.")
@click.option("--include-notes", is_flag=True,
              help="Also include your session notes, people map and question outcomes.")
@with_appcontext
def export_case_command(pseudonym: str, fmt: str, out_path: Path, login: str | None,
                        passphrase_stdin: bool, include_notes: bool) -> None:
    """Write the client's own (identifiable) copy of a case, after you sign in.

    Anonymised summaries are made only through the review page in the browser.
    """
    from sqlalchemy import select

    from ..cases.errors import NotFound
    from ..cases.permissions import case_for_counsellor
    from ..db import session_for
    from ..keyring import Keyring
    from ..models import Case
    from . import formats, service

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if out_path.is_dir() or (str(out_path.parent) and not out_path.parent.is_dir()):
        click.echo(f"Cannot write to {out_path}: choose a file in an existing folder.", err=True)
        raise SystemExit(2)
    login = login or click.prompt("Login name", err=True)
    if passphrase_stdin:
        passphrase = sys.stdin.readline().rstrip("\r\n")
    else:
        passphrase = click.prompt("Passphrase", hide_input=True, err=True)
    with session_for(app) as db:
        account = _sign_in(db, login, passphrase)
        case_id = db.scalar(select(Case.id).where(Case.pseudonym == pseudonym.strip().upper()))
        try:
            case = case_for_counsellor(db, account.user, case_id or "")
        except NotFound:
            click.echo(f"No case {pseudonym} among your cases.", err=True)
            raise SystemExit(1) from None
        keyring = Keyring(db, account.user, account.private_key)
        try:
            document = service.identifiable_export(db, keyring, case, fmt, include_notes)
        except formats.MissingFont:
            click.echo("A PDF needs a font with Chinese characters: install fonts-noto-cjk "
                       "or set JOURNAL_EXPORT_PDF_FONT, or choose md or json.", err=True)
            raise SystemExit(1) from None
        db.commit()  # the audit entry first: an export that happened is always on record
    batch.write_atomically(out_path, document)
    click.echo(f"Wrote the client's copy of {case.pseudonym} to {out_path}.")
