"""The per-request Keyring (keyring.py): it parses the private key once, opens each case key
once, can read every wrap in one statement for a search, and keeps nothing beyond itself."""

from __future__ import annotations

import pytest
from test_query_counts import keyring_for

from bench.scenarios import counting
from journal import crypto
from journal.db import session_for
from journal.keyring import Keyring, NoKey
from journal.models import PRIVATE, SHARED

from conftest import new_case


@pytest.fixture
def three_cases(app, counsellor) -> list[str]:
    return [new_case(counsellor, name=f"Client {i}") for i in range(3)]


def test_a_keyring_parses_the_private_key_once_and_opens_each_key_once(
        app, three_cases, monkeypatch):
    parsed, opened = [], []
    real_parse, real_unwrap = crypto.PrivateKey, crypto.PrivateKey.unwrap_key

    def parse(private_key: bytes) -> crypto.PrivateKey:
        parsed.append(1)
        return real_parse(private_key)

    def unwrap(self, *args: str) -> bytes:
        opened.append(args[1:3])
        return real_unwrap(self, *args)

    with app.app_context(), session_for(app) as db:
        keyring = keyring_for(app, db, "ada")
        monkeypatch.setattr(crypto, "PrivateKey", parse)
        monkeypatch.setattr(real_parse, "unwrap_key", unwrap)
        for _ in range(2):
            keys = [keyring.case_key(case_id, purpose) for case_id in three_cases
                    for purpose in (PRIVATE, SHARED)]
            keyring.directory_key()
        assert len(set(keys)) == 6
        assert parsed == [1]
        assert len(opened) == 7  # six case keys and the directory key, each once

        # A new keyring (the next request) starts from nothing: no process-wide memo.
        fresh = Keyring(db, keyring.user, keyring.private_key)
        assert fresh.case_key(three_cases[0], PRIVATE) == keys[0]
        assert parsed == [1, 1] and len(opened) == 8


def test_wraps_read_ahead_open_every_case_without_a_statement_each(app, three_cases):
    with app.app_context(), session_for(app) as db:
        keyring = keyring_for(app, db, "ada")
        expected = {(c, p): keyring.case_key(c, p) for c in three_cases for p in (PRIVATE, SHARED)}
        keyring = Keyring(db, keyring.user, keyring.private_key)
        with counting(app) as statements:
            keyring.load_case_wraps((PRIVATE, SHARED))
            found = {(c, p): keyring.case_key(c, p) for c in three_cases
                     for p in (PRIVATE, SHARED)}
        assert found == expected
        assert len(statements) == 1
        with pytest.raises(NoKey):
            keyring.case_key("not-a-case", PRIVATE)


def _signed_in(app, db, keyring: Keyring):
    """A session row for the keyring's user, resumed as a request would."""
    from datetime import timedelta

    from journal.auth import web_sessions

    cookie = web_sessions.start(db, keyring.user, keyring.private_key)
    db.commit()
    minutes = timedelta(minutes=20)
    return web_sessions.resume(db, cookie, web_sessions.Timeouts(minutes, minutes * 36, minutes))


def test_a_sessions_copies_open_only_with_its_own_key(app, three_cases, monkeypatch):
    from journal.keyring import SessionCopies

    case_id = three_cases[0]
    with app.app_context(), session_for(app) as db:
        keyring = keyring_for(app, db, "ada")
        signed_in = _signed_in(app, db, keyring)
        copies = SessionCopies(signed_in.session_id, signed_in.session_key)
        first = Keyring(db, keyring.user, keyring.private_key, copies)
        key = first.case_key(case_id, PRIVATE)
        copied = first.fresh_copies()
        assert [(c, p) for c, p, _ in copied] == [(case_id, PRIVATE)]
        sealed = {PRIVATE: copied[0][2]}
        assert key not in sealed[PRIVATE]
        assert first.fresh_copies() == []  # each handed out once

        opened = []
        real_unwrap = crypto.PrivateKey.unwrap_key
        monkeypatch.setattr(crypto.PrivateKey, "unwrap_key",
                            lambda self, *a: opened.append(a[1]) or real_unwrap(self, *a))
        again = Keyring(db, keyring.user, keyring.private_key, copies)
        again.add_copies(case_id, sealed)
        assert again.case_key(case_id, PRIVATE) == key and opened == []
        assert again.fresh_copies() == []

        # The same copy under another session's key, or filed under another case: the wrap
        # is opened instead, and the right key comes out.
        stranger = Keyring(db, keyring.user, keyring.private_key,
                           SessionCopies(signed_in.session_id, crypto.new_key()))
        stranger.add_copies(case_id, sealed)
        assert stranger.case_key(case_id, PRIVATE) == key and opened == [PRIVATE]
        moved = Keyring(db, keyring.user, keyring.private_key, copies)
        moved.add_copies(three_cases[1], sealed)
        assert moved.case_key(three_cases[1], PRIVATE) != key
        assert opened == [PRIVATE, PRIVATE]


@pytest.mark.parametrize("meanwhile", ["signed out", "case erased"])
def test_a_copy_outlives_neither_its_session_nor_its_case(app, three_cases, caplog, meanwhile):
    # Another tab signs out, or erases the case, while this request still holds the key it
    # opened: its teardown must not leave a copy behind (DESIGN 3.7: erasure leaves none).
    from flask import g
    from sqlalchemy import select

    from journal.auth import web_sessions
    from journal.cases import service as cases
    from journal.keyring import SessionCopies
    from journal.models import Case, SessionKey

    caplog.set_level("INFO", logger="journal.security")
    case_id = three_cases[0]
    with session_for(app) as db:
        with app.test_request_context():
            keyring = keyring_for(app, db, "ada")
            signed_in = _signed_in(app, db, keyring)
            g.db = db
            g.keyring = Keyring(db, keyring.user, keyring.private_key,
                                SessionCopies(signed_in.session_id, signed_in.session_key))
            g.keyring.case_key(case_id, PRIVATE)
            with session_for(app) as other:
                if meanwhile == "signed out":
                    web_sessions.end(other, signed_in.session_id)
                else:
                    cases.erase_case(other, other.get(Case, case_id))
                other.commit()
        # The request's teardown tried to keep the copy: no error, and nothing kept.
        assert "kept no copies of opened keys" in caplog.text
        assert db.scalars(select(SessionKey.case_id).where(SessionKey.case_id == case_id)
                          ).all() == []
