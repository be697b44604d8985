"""`flask --app wsgi seed-demo`: a demo counsellor with three cases, through the real services."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import crypto, instance_secrets
from .auth import service as auth
from .auth import two_factor
from .cases import notes, people, questions, sessions
from .cases import service as cases
from .db import session_for
from .demo import load_cases
from .keyring import Keyring
from .models import (
    ATTENDED,
    COUNSELLOR,
    SCHEDULED,
    Case,
    CounsellingSession,
    Practice,
    QuestionEvent,
    Reflection,
    ReflectionVersion,
    User,
)
from .portal import invitations
from .portal import reflections as reflections_service

DEMO_LOGIN = "demo-counsellor"
DEMO_PRACTICE = "Demo Practice"
DEMO_CLIENT_LOGINS = ("demo-client-1", "demo-client-2", "demo-client-3")
_WORDS = ("river", "lantern", "meadow", "pebble", "harbour", "willow", "copper", "thistle",
          "orchard", "falcon", "juniper", "saffron", "glacier", "tundra", "quill", "ember")


def _demo_passphrase() -> str:
    return "-".join(secrets.choice(_WORDS) for _ in range(5))


def seed_demo(app: Flask, echo: Callable[[str], None]) -> None:
    """Create the demo counsellor, cases and clients; refuse politely if they already exist."""
    cfg = app.config
    kdf = auth.KdfSettings(
        params=crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"]),
        allow_weak=bool(cfg["ALLOW_WEAK_KDF"]),
        pepper=instance_secrets.load(app).pepper,
    )
    with session_for(app) as db:
        lookup = auth.login_lookup(kdf.pepper, DEMO_LOGIN)
        if db.scalar(select(User.id).where(User.login_lookup == lookup)) is not None:
            echo(f"The demo counsellor '{DEMO_LOGIN}' already exists; nothing was changed.")
            return
        passphrase = _demo_passphrase()
        first = not auth.practice_exists(db)
        account = auth.create_account(db, role=COUNSELLOR, login_name=DEMO_LOGIN,
                                      passphrase=passphrase, kdf=kdf, is_admin=first)
        account.user.recovery_confirmed = True
        if first:
            db.add(Practice(id=1, name=DEMO_PRACTICE))
        db.flush()
        keyring = Keyring(db, account.user, account.private_key)
        totp_key, backup_codes = two_factor.enable_for_demo(db, account.user, kdf.pepper)
        client_passphrase = _demo_passphrase()
        for index, data in enumerate(load_cases()):
            _seed_case(db, keyring, data, len(data["sessions"]) + index,
                       DEMO_CLIENT_LOGINS[index], client_passphrase, kdf)
        db.commit()
    echo(f"Demo counsellor created.\n  login:      {DEMO_LOGIN}\n  passphrase: {passphrase}\n"
         f"Demo clients, one per case (same passphrase):\n"
         f"  logins:     {', '.join(DEMO_CLIENT_LOGINS)}\n  passphrase: {client_passphrase}\n"
         f"Sign in at http://127.0.0.1:5000/login\n"
         f"Two-step sign-in is on for the demo counsellor. Add this key to an authenticator "
         f"app:\n  {totp_key}\nor use one of these single-use backup codes:\n  "
         + "\n  ".join(backup_codes))


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour))


def _seed_case(db: Session, keyring: Keyring, data: dict, weeks_ago: int, client_login: str,
               client_passphrase: str, kdf: auth.KdfSettings) -> None:
    case = cases.create_case(db, keyring, cases.ClientProfile(**data["client"]))
    for person in data["people"]:
        people.add_person(db, keyring, case, person["name"], person["relation"])
    client = _join_as_client(db, keyring, case, client_login, client_passphrase, kdf)
    first_day = date.today() - timedelta(weeks=weeks_ago)
    held = []
    asked: list[list] = []  # per session: the questions asked in it
    pending: list = []  # (question, moves) waiting for the next session
    for number, session_data in enumerate(data["sessions"], start=1):
        session = sessions.add_session(db, case, first_day + timedelta(weeks=number - 1), 50,
                                       ATTENDED)
        db.flush()
        held.append(session)
        _apply_moves(db, keyring, pending, session, _at(session.held_on, 11))
        pending, these = [], []
        for q in session_data["questions"]:
            question = questions.ask(db, keyring, session, q["text"])
            db.flush()
            for event in db.scalars(select(QuestionEvent).where(
                    QuestionEvent.question_id == question.id)):
                event.created_at = _at(session.held_on, 10)
            these.append(question)
            pending.append((question, q["moves"]))
        asked.append(these)
        _seed_note(db, keyring, session, session_data.get("note"))
        # The client writes between this session and the next, as in real life.
        for entry in data.get("reflections", []):
            if entry["after_session"] == number:
                _seed_reflection(db, client, case, entry, session, asked)
    _apply_moves(db, keyring, pending, None, _at(held[-1].held_on, 12))
    sessions.add_session(db, case, first_day + timedelta(weeks=len(held)), 50, SCHEDULED)


def _apply_moves(db: Session, keyring: Keyring, pending: list,
                 session: CounsellingSession | None, at: datetime) -> None:
    for question, moves in pending:
        for step, move in enumerate(moves):
            if move["to"] == question.state:
                continue  # the client's reflection already moved it
            event = questions.move(db, keyring, question, move["to"], move["outcome"], session)
            event.created_at = at + timedelta(minutes=step)


def _seed_note(db: Session, keyring: Keyring, session: CounsellingSession,
               note_data: dict | None) -> None:
    if not note_data:
        return
    note = notes.start_note(db, keyring, session, note_data["template"])
    if note_data["signed"]:
        notes.sign(db, keyring, note, note_data["sections"], note.edit_version)
        if note_data.get("amendment"):
            amendment = note_data["amendment"]
            notes.amend(db, keyring, note, amendment["sections"], amendment["reason"],
                        note.edit_version)
    else:
        notes.save_draft(db, keyring, note, note_data["sections"], note.edit_version)


def _join_as_client(db: Session, keyring: Keyring, case: Case, login: str, passphrase: str,
                    kdf: auth.KdfSettings) -> Keyring:
    """The client joins by the same invitation path a real client uses."""
    _invitation, secret = invitations.create(db, keyring, case, 7, readmit=False)
    db.flush()
    account = invitations.accept(db, secret, login, passphrase, passphrase, kdf)
    account.user.recovery_confirmed = True
    db.flush()
    return Keyring(db, account.user, account.private_key)


def _seed_reflection(db: Session, client: Keyring, case: Case, entry: dict,
                     after: CounsellingSession, asked: list
                     ) -> None:
    written = _at(after.held_on + timedelta(days=2), 19)
    reflection = reflections_service.start(db, client, case)
    content = reflections_service.ReflectionContent(
        stood_out=entry["stood_out"], helped=entry["helped"], hard=entry["hard"],
        for_counsellor=entry["for_counsellor"], week_rating=entry["week_rating"],
        session_rating=entry["session_rating"],
        answers={asked[a["session"] - 1][a["question"]].id: a["text"] for a in entry["answers"]},
    )
    db.flush()
    if entry["shared"]:
        reflections_service.share(db, client, reflection, content, reflection.edit_version)
        if entry.get("amended"):
            reflections_service.start_amendment(db, client, reflection)
            db.flush()
            content.for_counsellor = entry["amended"]["for_counsellor"]
            reflections_service.share(db, client, reflection, content, reflection.edit_version)
        _backdate(db, reflection, written)
    else:
        reflections_service.save_draft(db, client, reflection, content, reflection.edit_version)
        reflection.created_at = reflection.updated_at = written


def _backdate(db: Session, reflection: Reflection, written: datetime) -> None:
    """Demo history: the reflection was shared two days after its session, not today."""
    reflection.created_at = reflection.updated_at = reflection.shared_at = written
    for version in db.scalars(select(ReflectionVersion).where(
            ReflectionVersion.reflection_id == reflection.id)):
        version.created_at = version.shared_at = written
    for event in db.scalars(select(QuestionEvent).where(
            QuestionEvent.reflection_id == reflection.id)):
        event.created_at = written
