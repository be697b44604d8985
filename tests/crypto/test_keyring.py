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
