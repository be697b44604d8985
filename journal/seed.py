"""`flask --app wsgi seed-demo`: a demo counsellor with three cases, through the real services."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from . import crypto, instance_secrets
from .auth import service as auth
from .cases import notes, people, questions, sessions
from .cases import service as cases
from .db import session_for
from .demo import load_cases
from .keyring import Keyring
from .models import ATTENDED, COUNSELLOR, SCHEDULED, Practice, User

DEMO_LOGIN = "demo-counsellor"
DEMO_PRACTICE = "Demo Practice"
_WORDS = ("river", "lantern", "meadow", "pebble", "harbour", "willow", "copper", "thistle",
          "orchard", "falcon", "juniper", "saffron", "glacier", "tundra", "quill", "ember")


def _demo_passphrase() -> str:
    return "-".join(secrets.choice(_WORDS) for _ in range(5))


def seed_demo(app: Flask, echo: Callable[[str], None]) -> None:
    """Create the demo counsellor and cases; refuse politely if they already exist."""
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
        for index, data in enumerate(load_cases()):
            _seed_case(db, keyring, data, weeks_ago=len(data["sessions"]) + index)
        db.commit()
    echo(f"Demo counsellor created.\n  login:      {DEMO_LOGIN}\n  passphrase: {passphrase}\n"
         f"Sign in at http://127.0.0.1:5000/login")


def _seed_case(db, keyring: Keyring, data: dict, weeks_ago: int) -> None:  # noqa: ANN001
    client = data["client"]
    case = cases.create_case(db, keyring, cases.ClientProfile(**client))
    for person in data["people"]:
        people.add_person(db, keyring, case, person["name"], person["relation"])
    first_day = date.today() - timedelta(weeks=weeks_ago)
    asked: list = []
    for number, session_data in enumerate(data["sessions"], start=1):
        session = sessions.add_session(db, case, first_day + timedelta(weeks=number - 1), 50,
                                       ATTENDED)
        db.flush()
        # Earlier questions move in the session after the one they were asked in.
        for question, moves in asked:
            for move in moves:
                questions.move(db, keyring, question, move["to"], move["outcome"], session)
        asked = []
        for q in session_data["questions"]:
            asked.append((questions.ask(db, keyring, session, q["text"]), q["moves"]))
        note_data = session_data.get("note")
        if note_data:
            note = notes.start_note(db, keyring, session, note_data["template"])
            if note_data["signed"]:
                notes.sign(db, keyring, note, note_data["sections"], note.edit_version)
                if note_data.get("amendment"):
                    amendment = note_data["amendment"]
                    notes.amend(db, keyring, note, amendment["sections"], amendment["reason"],
                                note.edit_version)
            else:
                notes.save_draft(db, keyring, note, note_data["sections"], note.edit_version)
    for question, moves in asked:
        for move in moves:
            questions.move(db, keyring, question, move["to"], move["outcome"])
    # The next meeting, a week after the last one.
    sessions.add_session(db, case, first_day + timedelta(weeks=len(data["sessions"])), 50,
                         SCHEDULED)
