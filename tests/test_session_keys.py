"""A signed-in session keeps the keys it has opened, sealed under its cookie key (DESIGN 3.6):
later pages open them with AES-GCM instead of an HPKE open; a copy that does not open is
ignored; copies go with the session and with an erased case."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from journal import crypto
from journal.db import session_for
from journal.models import SessionKey, WebSession

from conftest import new_case, new_session


@pytest.fixture
def hpke_opens(monkeypatch) -> list[str]:
    """Every HPKE open of a case or own key, by purpose."""
    opened: list[str] = []
    real = crypto.PrivateKey.unwrap_key

    def counting(self, wrapped, purpose, *ids):
        opened.append(purpose)
        return real(self, wrapped, purpose, *ids)

    monkeypatch.setattr(crypto.PrivateKey, "unwrap_key", counting)
    return opened


def _copies(app) -> list[tuple[str, str, bytes]]:
    with session_for(app) as db:
        return [tuple(row) for row in db.execute(
            select(SessionKey.case_id, SessionKey.purpose, SessionKey.key_sealed))]


def test_a_key_is_opened_once_per_session_then_from_its_copy(counsellor, app, hpke_opens):
    case_id = new_case(counsellor)
    session_id = new_session(counsellor, case_id)
    hpke_opens.clear()
    assert counsellor.get(f"/cases/{case_id}").status_code == 200
    assert counsellor.get("/").status_code == 200
    assert hpke_opens == ["private"]  # (the directory key was opened to add the case)
    copies = _copies(app)
    assert (case_id, "private") in {(c, p) for c, p, _ in copies}
    with session_for(app) as db:
        own = db.scalars(select(WebSession.directory_key_sealed)).all()
    assert len(own) == 1 and own[0] is not None
    # Nonce, a 32-byte key and the tag: sealed, never the key itself.
    assert all(len(sealed) == 12 + 32 + 16 for *_, sealed in [*copies, ("", "", own[0])])

    hpke_opens.clear()
    assert counsellor.get(f"/cases/{case_id}").status_code == 200
    assert counsellor.get("/").status_code == 200
    assert counsellor.get(f"/cases/{case_id}/sessions/{session_id}").status_code == 200
    assert hpke_opens == []


def test_a_copy_moved_to_another_case_does_not_open(counsellor, app, hpke_opens):
    first, second = new_case(counsellor, "First Client"), new_case(counsellor, "Second Client")
    counsellor.get(f"/cases/{first}")
    counsellor.get(f"/cases/{second}")
    with session_for(app) as db:
        sealed = db.scalar(select(SessionKey.key_sealed).where(
            SessionKey.case_id == first, SessionKey.purpose == "private"))
        db.execute(update(SessionKey).where(SessionKey.case_id == second,
                                            SessionKey.purpose == "private")
                   .values(key_sealed=sealed))
        db.commit()
    hpke_opens.clear()
    page = counsellor.get(f"/cases/{second}")
    assert page.status_code == 200 and "Second Client" in page.get_data(as_text=True)
    assert hpke_opens == ["private"]  # the wrap was opened instead


def test_signing_out_deletes_the_copies(counsellor, app):
    # (Erasing a case deletes its copies too: test_casework's erase test counts them.)
    case_id = new_case(counsellor)
    counsellor.get(f"/cases/{case_id}")
    assert any(c == case_id for c, *_ in _copies(app))
    counsellor.post("/logout", {})
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(WebSession)) == 0
    assert _copies(app) == []
