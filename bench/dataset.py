"""The benchmark's data set, written through the real services (never raw SQL of ciphertext).

One counsellor with `cases` open cases holding `entries` notes and shared reflections in all:

- the timeline case: `timeline_sessions` sessions, each with a note, and a client who shares a
  reflection every fourth week;
- the big case, holding the rest of the entries (about 14,100 of the 15,000), for the memory
  high-water mark of an export over one very large case;
- every other case: two sessions with a note; clients in `client_cases` of the cases write
  reflections. Every case has two people, open questions and one scheduled session.

Search covers all 15,000 entries and the dashboard all 300 cases however they are spread, so
putting most of them in one case changes no other measurement and saves building a second
data set for the export (this machine gives two processes no more than one core's worth).
A second counsellor has a single case (the 1-row statement count), and a third is made with
the configured (default) Argon2id parameters for the sign-in measurement; everyone else uses
cheap parameters (as tests/conftest.py's FAST_KDF) so that building stays quick.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock

from flask import Flask
from sqlalchemy import func, inspect, select, text

from journal import audit, create_app, crypto, instance_secrets, migrate
from journal.auth import service as auth
from journal.auth import two_factor
from journal.cases import notes, people, questions, sessions
from journal.cases import service as cases
from journal.db import engine_for, session_for
from journal.keyring import Keyring
from journal.models import (
    ATTENDED,
    COUNSELLOR,
    SCHEDULED,
    Case,
    Note,
    Person,
    Reflection,
    ReflectionVersion,
    User,
)
from journal.portal import invitations
from journal.portal import reflections as reflections_service

from . import text as words

PASSPHRASE = "bench quiet harbour at dawn"  # noqa: S105 - a benchmark's throwaway account
COUNSELLOR_LOGIN = "bench-counsellor"
ONE_CASE_LOGIN = "bench-one-case"
LOGIN_LOGIN = "bench-login"  # made with the configured Argon2id parameters
# Cheap Argon2id for the accounts the build needs in bulk (tests/conftest.py's FAST_KDF).
FAST_PARAMS = crypto.KdfParams(memory_kib=256, iterations=1, lanes=1)
REFLECTION_SHARE = 0.2
DATASET_FILE = "bench-dataset.json"
FIRST_NAMES = ("Robin", "Alex", "Sam", "Jordan", "Morgan", "Casey", "Jamie", "Avery", "Riley",
               "Quinn", "Xiaoming", "Yusuf", "Hannah", "Oskar", "Leila", "Chen Jing")
LAST_NAMES = ("Example", "Sample", "Placeholder", "Fictional", "Madeup", "Testwood",
              "Inventa", "Nobody", "Zhang", "Okafor", "Lindqvist", "Moreau")
TEMPLATES = ("soap", "soap", "narrative", "dap", "birp")
# Texts are drawn from a pool made once (generating each one costs more than saving it);
# the case's own people are put into the placeholders.
POOL_SIZE = 400
_MARKS = ["\x00first\x00", "\x00second\x00"]


@dataclass
class Spec:
    """How big the data set is."""

    cases: int = 300
    entries: int = 15_000  # notes + shared reflections
    timeline_sessions: int = 200
    client_cases: int = 30  # the timeline case, the big case and the first others
    other_notes: int = 2  # per other case
    other_reflections: int = 2  # per other case with a client
    seed: int = 20240601

    @property
    def timeline_reflections(self) -> int:
        return self.timeline_sessions // 4

    @property
    def other_client_cases(self) -> int:
        return max(0, min(self.client_cases - 2, self.cases - 2))

    @property
    def big_entries(self) -> int:
        small = ((self.cases - 2) * self.other_notes
                 + self.other_client_cases * self.other_reflections
                 + self.timeline_sessions + self.timeline_reflections)
        if self.cases < 2 or small >= self.entries:
            raise ValueError("too few entries for this many cases")
        return self.entries - small


@dataclass
class Dataset:
    """What the scenarios need to find their way around the data set (ids, names, counts)."""

    instance_path: str
    database_url: str
    counsellor_id: str = ""
    timeline_case_id: str = ""
    draft_session_id: str = ""  # its note is a draft: note_save saves it again and again
    session_id: str = ""
    reflection_id: str = ""
    question_id: str = ""
    person_id: str = ""
    client_login: str = ""
    big_case_id: str = ""
    cases: int = 0
    notes: int = 0
    reflections: int = 0
    big_notes: int = 0
    big_reflections: int = 0
    build_seconds: float = 0.0

    def save(self) -> None:
        with open(os.path.join(self.instance_path, DATASET_FILE), "w") as fh:
            json.dump(asdict(self), fh)

    @classmethod
    def load(cls, instance_path: str) -> Dataset:
        with open(os.path.join(instance_path, DATASET_FILE)) as fh:
            return cls(**json.load(fh))


def make_bench_app(instance_path: str, database_url: str | None = None) -> Flask:
    """The app as configured by default (Argon2id, two-step sign-in, throttling), on this
    instance and database."""
    url = database_url or f"sqlite:///{os.path.join(instance_path, 'journal.db')}"
    return create_app({"DATABASE_URL": url}, instance_path=instance_path)


def fast_kdf(app: Flask) -> auth.KdfSettings:
    return auth.KdfSettings(FAST_PARAMS, True, instance_secrets.load(app).pepper)


def default_kdf(app: Flask) -> auth.KdfSettings:
    cfg = app.config
    return auth.KdfSettings(
        crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"]),
        bool(cfg["ALLOW_WEAK_KDF"]), instance_secrets.load(app).pepper)


def prepare(instance_path: str, database_url: str | None, reset: bool = False) -> Flask:
    """Secrets and a migrated, empty database. A PostgreSQL database must be empty (or reset)."""
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    instance_secrets.create_missing(instance_path, practice_has_users=False)
    app = make_bench_app(instance_path, database_url)
    engine = engine_for(app)
    if reset and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    tables = set(inspect(engine).get_table_names())
    if "users" in tables:
        with session_for(app) as db:
            if db.scalar(select(func.count()).select_from(User)):
                raise SystemExit("bench: the database already holds users; give an empty one "
                                 "(or --reset-database to drop its public schema first)")
    migrate.upgrade(app)
    return app


def _log(message: str) -> None:
    print(f"  [build] {message}", file=sys.stderr, flush=True)


def _counsellor(db, app: Flask, login: str, kdf: auth.KdfSettings, admin: bool = False,
                totp: bool = True) -> Keyring:
    if admin:
        account = auth.set_up_practice(
            db, setup_code=auth.issue_setup_code(db), practice_name="Bench Practice",
            login_name=login, passphrase=PASSPHRASE, confirm=PASSPHRASE, kdf=kdf)
    else:
        account = auth.create_account(db, role=COUNSELLOR, login_name=login,
                                      passphrase=PASSPHRASE, kdf=kdf)
    account.user.recovery_confirmed = True
    if totp:  # counsellors must use two-step sign-in by default; turn it on as seed-demo does
        two_factor.enable_for_demo(db, account.user, kdf.pepper)
    db.flush()
    return Keyring(db, account.user, account.private_key)


def _client(db, keyring: Keyring, case: Case, login: str, kdf: auth.KdfSettings) -> Keyring:
    """The client joins through the invitation path a real client uses."""
    _invitation, secret = invitations.create(db, keyring, case, 7, readmit=False)
    db.flush()
    account = invitations.accept(db, secret, login, PASSPHRASE, PASSPHRASE, kdf)
    account.user.recovery_confirmed = True
    db.flush()
    return Keyring(db, account.user, account.private_key)


def _new_case(db, keyring: Keyring, rng: random.Random) -> tuple[Case, list[str]]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    profile = cases.ClientProfile(
        name=f"{first} {last}", preferred_name=first if rng.random() < 0.3 else "",
        date_of_birth=date(rng.randint(1960, 2006), rng.randint(1, 12),
                           rng.randint(1, 28)).isoformat(),
        contact=f"{first.lower()}.{last.lower()}@example.org")
    case = cases.create_case(db, keyring, profile)
    db.flush()
    names = rng.sample(words.PEOPLE, 2)
    for name in names:
        people.add_person(db, keyring, case, name, rng.choice(words.RELATIONS))
    return case, names


class TextPool:
    """Notes per template and reflections, made once, with the case's people filled in."""

    def __init__(self, rng: random.Random, size: int = POOL_SIZE) -> None:
        self.rng = rng
        self.notes = {t: [words.note_sections(rng, notes.section_keys(t), _MARKS)
                          for _ in range(max(1, size // 4))] for t in set(TEMPLATES)}
        self.reflections = [words.reflection_texts(rng, _MARKS) for _ in range(size)]

    @staticmethod
    def _named(texts: dict[str, str], names: list[str]) -> dict[str, str]:
        return {k: v.replace(_MARKS[0], names[0]).replace(_MARKS[1], names[1])
                for k, v in texts.items()}

    def note(self, template: str, names: list[str]) -> dict[str, str]:
        return self._named(self.rng.choice(self.notes[template]), names)

    def reflection(self, names: list[str]) -> dict[str, str]:
        return self._named(self.rng.choice(self.reflections), names)


def _fill_case(db, keyring: Keyring, case: Case, rng: random.Random, pool: TextPool,
               n_sessions: int, names: list[str], client: Keyring | None, n_reflections: int,
               draft_last: bool = False, commit_every: int = 200, spacing_days: int = 7,
               questions_every: int = 10) -> dict[str, str]:
    """Sessions with a note each, open questions, one scheduled session and, with a client,
    shared reflections spread between the sessions."""
    today = date.today()
    first = today - timedelta(days=spacing_days * n_sessions)
    after: dict[int, int] = {}  # session index -> reflections written after it
    for i in range(n_reflections):
        index = min(n_sessions - 1, i * n_sessions // max(n_reflections, 1))
        after[index] = after.get(index, 0) + 1
    ids: dict[str, str] = {}
    for i in range(n_sessions):
        held = first + timedelta(days=spacing_days * i)
        session = sessions.add_session(db, case, held, 50, ATTENDED)
        db.flush()
        template = rng.choice(TEMPLATES)
        note = notes.start_note(db, keyring, session, template)
        content = pool.note(template, names)
        last = i == n_sessions - 1
        if (draft_last and last) or rng.random() < 0.03:
            notes.save_draft(db, keyring, note, content, note.edit_version)
        else:
            notes.sign(db, keyring, note, content, note.edit_version)
        if last:
            ids["session_id"] = session.id
        if i % questions_every == 0 or i >= n_sessions - 2:
            question = questions.ask(db, keyring, session,
                                     rng.choice(("How did the week with {p} go?",
                                                 "What helped with sleep?",
                                                 "你这周的情绪怎么样？")).format(p=names[0]))
            ids["question_id"] = question.id
        for _ in range(after.get(i, 0)):
            ids["reflection_id"] = _reflection(db, client, case, rng, pool, names, held)
        if (i + 1) % commit_every == 0:
            db.commit()
    sessions.add_session(db, case, today + timedelta(days=rng.randint(1, 21)), 50, SCHEDULED)
    return ids


def _reflection(db, client: Keyring | None, case: Case, rng: random.Random, pool: TextPool,
                names: list[str], after: date) -> str:
    assert client is not None  # noqa: S101 - reflections are planned only for client cases
    reflection = reflections_service.start(db, client, case)
    db.flush()
    content = reflections_service.ReflectionContent(
        **pool.reflection(names), week_rating=rng.randint(0, 10),
        session_rating=rng.randint(0, 10))
    reflections_service.share(db, client, reflection, content, reflection.edit_version)
    # History, as seed-demo does: shared two days after its session, not all today.
    written = datetime.combine(after + timedelta(days=2), clock(19))
    reflection.created_at = reflection.updated_at = reflection.shared_at = written
    for version in db.scalars(select(ReflectionVersion).where(
            ReflectionVersion.reflection_id == reflection.id)):
        version.created_at = version.shared_at = written
    return reflection.id


def build(app: Flask, spec: Spec) -> Dataset:
    """The data set (see the module docstring); returns what the scenarios need."""
    started = time.perf_counter()
    rng = random.Random(spec.seed)  # noqa: S311 - invented text, not secrets
    fast = fast_kdf(app)
    pool = TextPool(rng)
    dataset = Dataset(instance_path=app.instance_path, database_url=app.config["DATABASE_URL"])
    big_entries = spec.big_entries
    big_reflections = int(big_entries * REFLECTION_SHARE)
    with app.test_request_context(), session_for(app, write=True) as db:
        if auth.practice_exists(db):
            raise SystemExit("bench: the practice already exists in this database")
        me = _counsellor(db, app, COUNSELLOR_LOGIN, fast, admin=True)
        dataset.counsellor_id = me.user.id
        # As the set-up page does; it also starts the audit chain (its head row), which a
        # practice always has before anyone else writes.
        audit.record(db, "practice.set_up", actor_id=me.user.id, object_type="practice")
        one = _counsellor(db, app, ONE_CASE_LOGIN, fast)
        _new_case(db, one, rng)
        _counsellor(db, app, LOGIN_LOGIN, default_kdf(app), totp=False)
        db.commit()
        _log("accounts ready")
        for index in range(spec.cases):
            case, names = _new_case(db, me, rng)
            db.flush()
            timeline, big = index == 0, index == 1
            client = None
            if index < 2 + spec.other_client_cases:
                login = f"bench-client-{index:03d}"
                client = _client(db, me, case, login, fast)
                if timeline:
                    dataset.client_login = login
            if timeline:
                ids = _fill_case(db, me, case, rng, pool, spec.timeline_sessions, names, client,
                                 spec.timeline_reflections, draft_last=True)
                dataset.timeline_case_id = case.id
                dataset.draft_session_id = ids["session_id"]
                dataset.session_id = ids["session_id"]
                dataset.reflection_id = ids.get("reflection_id", "")
                dataset.question_id = ids["question_id"]
                dataset.person_id = db.scalar(select(Person.id).where(
                    Person.case_id == case.id).limit(1)) or ""
            elif big:
                _fill_case(db, me, case, rng, pool, big_entries - big_reflections, names,
                           client, big_reflections, commit_every=500, spacing_days=1,
                           questions_every=100)
                dataset.big_case_id = case.id
                _log(f"big case ready, {time.perf_counter() - started:.1f} s")
            else:
                _fill_case(db, me, case, rng, pool, spec.other_notes, names, client,
                           spec.other_reflections if client else 0)
            db.commit()
            if (index + 1) % 100 == 0:
                _log(f"{index + 1} cases, {time.perf_counter() - started:.1f} s")
        mine = select(Case.id).where(Case.counsellor_id == me.user.id)
        dataset.cases = db.scalar(select(func.count()).select_from(Case)
                                  .where(Case.counsellor_id == me.user.id)) or 0
        dataset.notes = db.scalar(select(func.count()).select_from(Note)
                                  .where(Note.case_id.in_(mine))) or 0
        dataset.reflections = db.scalar(select(func.count()).select_from(Reflection).where(
            Reflection.case_id.in_(mine), Reflection.status == "shared")) or 0
        dataset.big_notes = db.scalar(select(func.count()).select_from(Note)
                                      .where(Note.case_id == dataset.big_case_id)) or 0
        dataset.big_reflections = db.scalar(select(func.count()).select_from(Reflection).where(
            Reflection.case_id == dataset.big_case_id, Reflection.status == "shared")) or 0
    _settle(app)
    dataset.build_seconds = time.perf_counter() - started
    dataset.save()
    return dataset


def _settle(app: Flask) -> None:
    """On PostgreSQL, what autovacuum does for a database in use: statistics for the planner
    and the visibility map for index-only scans. Straight after a bulk load neither exists,
    and the dashboard read ~4,000 heap pages it would not read in production."""
    engine = engine_for(app)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
