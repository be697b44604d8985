"""The client's side and the loop back to the counsellor (DESIGN 3.2, 3.4, 3.5): invitations,
reflections with autosave that survives a session ending, read receipts, the pre-session
brief, re-admission, drafts nobody else can read, and who may reach what."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from journal import crypto, instance_secrets
from journal.auth import service as auth
from journal.db import Base, engine_for, session_for
from journal.keyring import Keyring, NoKey
from journal.models import (
    ANSWERED,
    CLIENT_ONLY,
    PRIVATE,
    RESOLVED,
    SHARED,
    SHARED_SCOPE,
    Case,
    CaseKey,
    ClientInvitation,
    OpenQuestion,
    Reflection,
    ReflectionVersion,
    User,
    WebSession,
    utcnow,
)
from journal.portal import reflections as reflections_service

from conftest import (
    PASSPHRASE,
    Browser,
    invitation_link,
    invite_and_join,
    join_as_client,
    new_case,
    new_session,
    reflection_version,
    sign_in,
    start_reflection,
)

CLIENT_PASSPHRASE = "an old lighthouse keeper's song"
NEW_CLIENT_PASSPHRASE = "a brand new tidal morning"
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')
_JSON = {"Accept": "application/json"}


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def location(resp: Any) -> str:
    return resp.headers.get("Location", "")


def without_tokens(page: str) -> str:
    """A page with its CSRF tokens blanked (they carry a timestamp)."""
    return _CSRF_VALUE.sub(r'\1"', page)


def ask(counsellor: Browser, case_id: str, session_id: str, text: str) -> str:
    """Ask an open question in a session; returns its id."""
    resp = counsellor.post(f"/cases/{case_id}/sessions/{session_id}/questions", {"text": text})
    assert resp.status_code == 302, text_of(resp)
    page = text_of(counsellor.get(f"/cases/{case_id}/sessions/{session_id}"))
    return re.findall(r'id="q-([0-9a-f-]{36})"', page)[-1]


def with_skips(fields: dict[str, str]) -> dict[str, str]:
    """The form as posted: a rating not given is ticked "I'd rather not say"."""
    data = dict(fields)
    for rating in ("week_rating", "session_rating"):
        if rating not in fields:
            data[f"{rating}_skip"] = "1"
    return data


def autosave(client: Browser, reflection_id: str, version: str | int, **fields: str):
    return client.post(f"/portal/reflections/{reflection_id}/autosave",
                       {**with_skips(fields), "edit_version": str(version)}, headers=_JSON)


def save(client: Browser, reflection_id: str, version: str | int, action: str = "save",
         **fields: str):
    return client.post(f"/portal/reflections/{reflection_id}", {
        **with_skips(fields), "edit_version": str(version), "action": action})


def write_and_share(client: Browser, **fields: str) -> str:
    """A new reflection, shared with the fields given (ratings only if given); returns its id."""
    reflection_id = start_reflection(client)
    resp = save(client, reflection_id, reflection_version(client, reflection_id), "share",
                **fields)
    assert resp.status_code == 302, text_of(resp)
    return reflection_id


def join(app: Flask, link: str, login: str, passphrase: str = CLIENT_PASSPHRASE
         ) -> tuple[Browser, str]:
    """Accept an invitation link in a new browser; returns it and the recovery code shown."""
    client = Browser(app.test_client())
    resp = client.post("/portal/invite", {"secret": link.split("#", 1)[1], "login_name": login,
                                          "passphrase": passphrase, "confirm": passphrase})
    assert resp.status_code == 200, text_of(resp)
    code = re.search(r'id="recovery-code">([^<]+)<', text_of(resp)).group(1)
    assert client.post("/account/recovery-code/confirm", {"stored": "y"}).status_code == 302
    return client, code


def kdf_for(app: Flask) -> auth.KdfSettings:
    cfg = app.config
    return auth.KdfSettings(
        params=crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"]),
        allow_weak=bool(cfg["ALLOW_WEAK_KDF"]),
        pepper=instance_secrets.load(app).pepper,
    )


def keyring_for(app: Flask, db: Any, login: str, passphrase: str = PASSPHRASE) -> Keyring:
    """The keys a user holds, unlocked with their passphrase the way sign-in does it."""
    unlocked = auth.authenticate(db, login, passphrase, kdf_for(app))
    return Keyring(db, unlocked.user, unlocked.private_key)


def snapshot(app: Flask, allowed: frozenset[tuple[str, str]] = frozenset()) -> dict:
    """Every row of every table, leaving out the (table, column) pairs that may change and
    the audit log (which records attempts, and may grow on any request: DESIGN 3)."""
    state = {}
    with engine_for(app).connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name.startswith("audit"):
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in allowed]
            state[table.name] = sorted(repr(tuple(r)) for r in conn.execute(select(*columns)))
    return state


LAST_SEEN = frozenset({("web_sessions", "last_seen")})


@pytest.fixture
def case_with_client(app, counsellor):
    """ada's case with a held session and an open question; its client 'robin' has joined."""
    case_id = new_case(counsellor, "Robin Example")
    session_id = new_session(counsellor, case_id, "2026-11-02")
    question_id = ask(counsellor, case_id, session_id, "What would rest look like for you?")
    link = invitation_link(counsellor, case_id)
    client, code = join(app, link, "robin")
    return {"case_id": case_id, "session_id": session_id, "question_id": question_id,
            "client": client, "recovery_code": code}


# --- the whole loop ---------------------------------------------------------------------------


def test_the_full_loop_survives_a_session_ending_while_writing(app, counsellor,
                                                               case_with_client):
    w = case_with_client
    client, case_id, question_id = w["client"], w["case_id"], w["question_id"]
    home = text_of(client.get("/portal/"))
    assert "What would rest look like for you?" in home

    # The client starts writing; the page offers the open question and autosaves.
    reflection_id = start_reflection(client)
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert f'name="answer_{question_id}"' in page
    version = reflection_version(client, reflection_id)
    resp = autosave(client, reflection_id, version, stood_out="Typed before the timeout",
                    **{f"answer_{question_id}": "Rest would be a slow Sunday"})
    assert resp.status_code == 200 and resp.json["ok"] is True
    version = resp.json["edit_version"]
    assert version == int(reflection_version(client, reflection_id))

    # Twenty-one idle minutes later the sign-in has ended.
    with session_for(app) as db:
        client_id = db.get(Case, case_id).client_id
        db.execute(update(WebSession).where(WebSession.user_id == client_id)
                   .values(last_seen=utcnow() - timedelta(minutes=21)))
        db.commit()
    after = {"stood_out": "Typed before the timeout, and after it",
             f"answer_{question_id}": "Rest would be a slow Sunday with no phone"}
    resp = autosave(client, reflection_id, version, **after)
    assert resp.status_code == 401
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(WebSession)
                         .where(WebSession.user_id == client_id)) == 0

    # Signing in again from the page: a wrong passphrase is refused kindly, in JSON.
    resp = client.post("/portal/resume", {"login_name": "robin", "passphrase": "wrong words"})
    assert resp.status_code == 401 and resp.json["ok"] is False
    resp = client.post("/portal/resume", {"login_name": "robin",
                                          "passphrase": CLIENT_PASSPHRASE})
    assert resp.status_code == 200 and resp.json["ok"] is True and resp.json["csrf_token"]

    # Nothing was lost: what was saved before the timeout is there, and the retry saves.
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert "Typed before the timeout</textarea>" in page
    assert "Rest would be a slow Sunday</textarea>" in page
    resp = client.post(f"/portal/reflections/{reflection_id}/autosave",
                       {"edit_version": str(version), "csrf_token": resp.json["csrf_token"],
                        "week_rating_skip": "1", "session_rating_skip": "1", **after},
                       headers=_JSON)
    assert resp.status_code == 200 and resp.json["ok"] is True, text_of(resp)
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert "Typed before the timeout, and after it</textarea>" in page
    assert "Rest would be a slow Sunday with no phone</textarea>" in page

    # Before sharing, the counsellor sees nothing of it.
    assert "tag-unread" not in text_of(counsellor.get("/"))
    assert counsellor.get(f"/cases/{case_id}/reflections/{reflection_id}").status_code == 404

    resp = save(client, reflection_id, reflection_version(client, reflection_id), "share",
                **after)
    assert resp.status_code == 302
    home = text_of(client.get("/portal/"))
    assert "not opened yet" in home and "read by your counsellor" not in home

    # The counsellor sees it unread: dashboard, case timeline and brief.
    dashboard = text_of(counsellor.get("/"))
    assert re.search(r'class="tag tag-unread">1 reflection<', dashboard)
    case_page = text_of(counsellor.get(f"/cases/{case_id}"))
    assert f"/cases/{case_id}/reflections/{reflection_id}" in case_page
    assert re.search(r'class="tag tag-unread">unread<', case_page)
    brief = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert "Typed before the timeout, and after it" in brief
    assert "Rest would be a slow Sunday with no phone" in brief
    assert re.search(r'class="tag tag-unread">unread<', brief)
    link_to_answer = f"/cases/{case_id}/reflections/{reflection_id}#answer-{question_id}"
    assert link_to_answer in brief

    # The question moved to 'answered', linked to the reflection in its history.
    with session_for(app) as db:
        assert db.get(OpenQuestion, question_id).state == ANSWERED
    history = text_of(counsellor.get(f"/cases/{case_id}/questions"))
    assert "open → answered" in history and link_to_answer in history
    assert "You answered this." in text_of(client.get("/portal/"))

    # Opening it marks it read; the client sees when.
    page = text_of(counsellor.get(f"/cases/{case_id}/reflections/{reflection_id}"))
    assert "Typed before the timeout, and after it" in page
    assert f'id="answer-{question_id}"' in page
    with session_for(app) as db:
        assert db.scalar(select(ReflectionVersion.read_at).where(
            ReflectionVersion.reflection_id == reflection_id)) is not None
    assert "tag-unread" not in text_of(counsellor.get("/"))
    assert "tag-unread" not in text_of(counsellor.get(f"/cases/{case_id}"))
    assert "read by your counsellor on" in text_of(client.get("/portal/"))
    assert "Read by your counsellor on" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))

    # Resolved in the next session: the brief no longer carries it.
    resp = counsellor.post(f"/cases/{case_id}/questions/{question_id}/move",
                           {"to_state": RESOLVED})
    assert resp.status_code == 302
    brief = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert "What would rest look like for you?" not in brief
    assert "No open questions." in brief


# --- invitations ------------------------------------------------------------------------------


def _invalid_link_page(app: Flask, secret: str, login: str = "someone") -> tuple[int, str]:
    stranger = Browser(app.test_client())
    resp = stranger.post("/portal/invite", {"secret": secret, "login_name": login,
                                            "passphrase": CLIENT_PASSPHRASE,
                                            "confirm": CLIENT_PASSPHRASE})
    return resp.status_code, without_tokens(text_of(resp))


def test_the_client_home_names_the_next_booked_session(counsellor, case_with_client):
    from datetime import date

    client, case_id = case_with_client["client"], case_with_client["case_id"]
    assert "Your next session is on" not in text_of(client.get("/portal/"))
    today = date.today()
    booked = [(today - timedelta(days=4), "scheduled"),  # in the past: not the next one
              (today + timedelta(days=10), "scheduled"),
              (today + timedelta(days=3), "cancelled"),  # cancelled: not the next one
              (today + timedelta(days=4), "scheduled")]
    for day, attendance in booked:
        new_session(counsellor, case_id, day.isoformat(), attendance=attendance)
    expected = (today + timedelta(days=4)).strftime("%A %d %B")
    assert f"Your next session is on {expected}." in text_of(client.get("/portal/"))


def test_invitation_links_are_secret_single_use_and_revocable(app, counsellor):
    case_id = new_case(counsellor, "Quentin Invitee")
    with session_for(app) as db:
        pseudonym = db.get(Case, case_id).pseudonym

    first = invitation_link(counsellor, case_id)
    # The secret is in the fragment, never in the path or query, and has >= 128 bits.
    address, secret = first.split("#", 1)
    assert address.endswith("/portal/invite") and "?" not in address
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) * 8 >= 128
    page = text_of(counsellor.get(f"/cases/{case_id}"))
    assert secret not in page and "invitation link is waiting" in page

    # The page that receives it works without the secret reaching the server.
    assert Browser(app.test_client()).get("/portal/invite").status_code == 200

    # A new link revokes the previous one.
    second = invitation_link(counsellor, case_id)
    status, revoked_by_new = _invalid_link_page(app, first)
    assert status == 404

    # The database holds only a lookup value, never the secret.
    with session_for(app) as db:
        rows = db.scalars(select(ClientInvitation)
                          .where(ClientInvitation.case_id == case_id)).all()
        assert len(rows) == 2
        second_secret = second.split("#", 1)[1]
        second_raw = base64.urlsafe_b64decode(second_secret + "=" * (-len(second_secret) % 4))
        for row in rows:
            for column in ClientInvitation.__table__.columns:
                value = getattr(row, column.key)
                for needle in (raw, second_raw):
                    assert not (isinstance(value, bytes) and needle in value), column.key
                for needle in (secret, second_secret):
                    assert needle not in str(value), column.key
        revoked = next(r for r in rows if r.revoked_at is not None)
        assert revoked.shared_key_wrapped is None
        live = next(r for r in rows if r.revoked_at is None)
        assert live.shared_key_wrapped is not None and live.lookup not in (raw, second_raw)

    client, _code = join(app, second, "quentin")
    assert client.get("/portal/").status_code == 200
    with session_for(app) as db:
        used = db.get(ClientInvitation, live.id)
        assert used.used_at is not None and used.shared_key_wrapped is None
    status, used_page = _invalid_link_page(app, second)
    assert status == 404

    # Expired and revoked links, on another case (its client has not joined).
    other_case = new_case(counsellor, "Other Invitee")
    expiring = invitation_link(counsellor, other_case)
    with session_for(app) as db:
        db.execute(update(ClientInvitation).where(ClientInvitation.case_id == other_case)
                   .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    status, expired_page = _invalid_link_page(app, expiring)
    assert status == 404
    to_revoke = invitation_link(counsellor, other_case)
    resp = counsellor.post(f"/cases/{other_case}/invitation/revoke")
    assert resp.status_code == 302
    status, revoked_page = _invalid_link_page(app, to_revoke)
    assert status == 404
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(ClientInvitation).where(
            ClientInvitation.case_id == other_case,
            ClientInvitation.shared_key_wrapped.is_not(None))) == 0

    # Forged and garbage secrets.
    forged = crypto.encode_link_secret(crypto.random_token(20))
    pages = [revoked_by_new, used_page, expired_page, revoked_page]
    for bad in (forged, "garbage", "http://localhost/portal/invite#" + "A" * 30, "#", "ü" * 30):
        status, page = _invalid_link_page(app, bad)
        assert status == 404, bad
        pages.append(page)
    assert len(set(pages)) == 1, "every unusable link must get the very same page"
    page = pages[0]
    assert "can’t be used" in page or "can&#39;t be used" in page or "can't be used" in page
    for detail in ("Quentin", "Other Invitee", pseudonym, case_id, other_case):
        assert detail not in page
    # Nobody joined through a bad link.
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(User).where(User.role == "client")) == 1
        assert db.get(Case, other_case).client_id is None


def test_client_login_name_is_never_stored(app, counsellor, case_with_client):
    with session_for(app) as db:
        client = db.get(User, db.get(Case, case_with_client["case_id"]).client_id)
        assert client.role == "client" and client.login_name is None
        assert b"robin" not in client.login_lookup
        assert db.scalar(select(User.login_name).where(User.role == "counsellor")) == "ada"
    # The name still works for signing in (through its HMAC).
    other = Browser(app.test_client())
    resp = sign_in(other, "robin", CLIENT_PASSPHRASE)
    assert resp.status_code == 302 and location(resp) == "/portal/"


# --- re-admission -----------------------------------------------------------------------------


def test_readmission_gives_new_keys_and_ends_the_old_ones(app, counsellor, case_with_client):
    w = case_with_client
    old_client, case_id, old_code = w["client"], w["case_id"], w["recovery_code"]
    shared_id = write_and_share(old_client, stood_out="Shared before I lost everything")
    draft_id = start_reflection(old_client)
    resp = autosave(old_client, draft_id, reflection_version(old_client, draft_id),
                    stood_out="An unshared draft only the old key opens")
    assert resp.status_code == 200
    with session_for(app) as db:
        client_id = db.get(Case, case_id).client_id
        old_public_key = db.get(User, client_id).public_key

    # A plain invitation cannot be made for a case whose client joined; a re-admission can.
    resp = counsellor.post(f"/cases/{case_id}/invitation", follow_redirects=True)
    assert "can&#39;t be made" in text_of(resp) or "can’t be made" in text_of(resp)
    counsellor_pages = [text_of(counsellor.get(f"/cases/{case_id}"))]
    link = invitation_link(counsellor, case_id, readmit=True)
    counsellor_pages.append(text_of(counsellor.get(f"/cases/{case_id}")))

    new_client, _new_code = join(app, link, "robin-again", NEW_CLIENT_PASSPHRASE)
    counsellor_pages.append(text_of(counsellor.get(f"/cases/{case_id}")))

    # Same user, new key pair; the old browser is signed out.
    with session_for(app) as db:
        user = db.get(User, client_id)
        assert user.public_key != old_public_key and user.login_name is None
        assert db.get(Case, case_id).client_id == client_id
        assert db.scalar(select(func.count()).select_from(CaseKey)
                         .where(CaseKey.recipient_id == client_id)) == 1
    resp = old_client.get("/portal/")
    assert resp.status_code == 302 and location(resp).startswith("/login")

    # The old passphrase and the old recovery code no longer work, under either name.
    for login in ("robin", "robin-again"):
        resp = sign_in(Browser(app.test_client()), login, CLIENT_PASSPHRASE)
        assert resp.status_code == 200 and "don&#39;t match" in text_of(resp)
        fresh_words = "yet another fresh passphrase"
        resp = Browser(app.test_client()).post("/recover", {
            "login_name": login, "recovery_code": old_code,
            "passphrase": fresh_words, "confirm": fresh_words})
        assert resp.status_code == 200 and "recovery code don&#39;t match" in text_of(resp)
    # The new login and passphrase do.
    fresh = Browser(app.test_client())
    resp = sign_in(fresh, "robin-again", NEW_CLIENT_PASSPHRASE)
    assert resp.status_code == 302 and location(resp) == "/portal/"

    # What was shared stays readable by both; the unshared draft is gone.
    assert "Shared before I lost everything" in text_of(
        fresh.get(f"/portal/reflections/{shared_id}"))
    assert "Shared before I lost everything" in text_of(
        counsellor.get(f"/cases/{case_id}/reflections/{shared_id}"))
    assert fresh.get(f"/portal/reflections/{draft_id}").status_code == 404
    assert "An unshared draft" not in text_of(fresh.get("/portal/"))
    with session_for(app) as db:
        assert db.get(Reflection, draft_id) is None
        assert db.scalar(select(func.count()).select_from(ReflectionVersion).where(
            ReflectionVersion.scope == CLIENT_ONLY)) == 0
    # The client can write again with their new keys.
    write_and_share(fresh, stood_out="Back again")

    # The counsellor never saw either passphrase.
    for page in counsellor_pages:
        assert CLIENT_PASSPHRASE not in page and NEW_CLIENT_PASSPHRASE not in page
        assert "lighthouse" not in page and "tidal" not in page


# --- drafts, notes and keys -------------------------------------------------------------------


def test_drafts_are_the_clients_alone(app, counsellor, case_with_client):
    w = case_with_client
    client, case_id = w["client"], w["case_id"]
    draft_id = start_reflection(client)
    assert autosave(client, draft_id, reflection_version(client, draft_id),
                    stood_out="Only mine for now").status_code == 200
    shared_id = write_and_share(client, stood_out="Shared with you")

    assert counsellor.get(f"/cases/{case_id}/reflections/{draft_id}").status_code == 404
    assert counsellor.get(f"/cases/{case_id}/reflections/{shared_id}").status_code == 200
    assert "Only mine for now" not in text_of(counsellor.get(f"/cases/{case_id}"))
    assert "Only mine for now" not in text_of(counsellor.get(f"/cases/{case_id}/brief"))

    with session_for(app) as db:
        draft = db.scalar(select(ReflectionVersion)
                          .where(ReflectionVersion.reflection_id == draft_id))
        assert draft.scope == CLIENT_ONLY
        ada = keyring_for(app, db, "ada")
        with pytest.raises(NoKey):
            reflections_service.open_version(ada, draft)
        # Even with the shared case key, a draft's ciphertext does not open.
        shared_key = ada.case_key(case_id, SHARED)
        for column in ("content/client", "content/shared"):
            with pytest.raises(crypto.DecryptionFailed):
                crypto.open_field(shared_key, draft.content_sealed, crypto.FieldRef(
                    "reflection_versions", draft.id, column, case_id))
        shared = db.scalar(select(ReflectionVersion)
                           .where(ReflectionVersion.reflection_id == shared_id))
        assert reflections_service.open_version(ada, shared).stood_out == "Shared with you"

        robin = keyring_for(app, db, "robin", CLIENT_PASSPHRASE)
        assert reflections_service.open_version(robin, draft).stood_out == "Only mine for now"
        assert reflections_service.open_version(robin, shared).stood_out == "Shared with you"
        # The client holds the shared case key only: notes, people and profile stay closed.
        robin.case_key(case_id, SHARED)
        with pytest.raises(NoKey):
            robin.case_key(case_id, PRIVATE)
        with pytest.raises(NoKey):
            robin.directory_key()


def test_saving_and_sharing_keep_what_the_session_loaded_true(app, case_with_client):
    """Saves and shares are plain statements on the tables: rows this session had already
    loaded hold the values written, and nothing is written a second time at commit."""
    draft_id = start_reflection(case_with_client["client"])
    content = reflections_service.ReflectionContent
    with session_for(app) as db:
        robin = keyring_for(app, db, "robin", CLIENT_PASSPHRASE)
        reflection = db.get(Reflection, draft_id)
        loaded = reflections_service.working_copy(db, robin, reflection).version
        version = reflections_service.save_draft(db, robin, reflection,
                                                 content(helped="A walk"),
                                                 reflection.edit_version)
        assert version == reflection.edit_version == 2
        assert reflections_service.open_version(robin, loaded).helped == "A walk"
        reflections_service.share(db, robin, reflection, content(helped="A long walk"), version)
        assert loaded.scope == SHARED_SCOPE and loaded.shared_at is not None
        assert reflection.status == "shared" and reflection.shared_at == loaded.shared_at
        assert reflections_service.open_version(robin, loaded).helped == "A long walk"
        assert not db.dirty
        db.commit()
    with session_for(app) as db:
        row = db.get(ReflectionVersion, loaded.id)
        assert row.scope == SHARED_SCOPE and row.shared_at is not None
        ada = keyring_for(app, db, "ada")
        assert reflections_service.open_version(ada, row).helped == "A long walk"
        stored = db.get(Reflection, draft_id)
        assert (stored.status, stored.edit_version) == ("shared", 3)
        first_shared = stored.shared_at
        # Amended and shared again: the reflection keeps its first share time, the new
        # version gets its own, and both stay readable to the counsellor.
        robin = keyring_for(app, db, "robin", CLIENT_PASSPHRASE)
        reflections_service.start_amendment(db, robin, stored)
        reflections_service.share(db, robin, stored, content(helped="A longer walk"),
                                  stored.edit_version)
        db.commit()
        versions = db.scalars(select(ReflectionVersion)
                              .where(ReflectionVersion.reflection_id == draft_id)
                              .order_by(ReflectionVersion.number)).all()
        assert [v.scope for v in versions] == [SHARED_SCOPE, SHARED_SCOPE]
        assert stored.shared_at == first_shared < versions[1].shared_at
        assert [reflections_service.open_version(ada, v).helped for v in versions] == [
            "A long walk", "A longer walk"]


def test_a_new_draft_can_be_shared_at_once(app, case_with_client):
    # start() leaves the draft's first version pending; sharing it in the same breath (no
    # flush between, the case already in the session) must find it.
    with session_for(app) as db:
        robin = keyring_for(app, db, "robin", CLIENT_PASSPHRASE)
        case = db.get(Case, case_with_client["case_id"])
        reflection = reflections_service.start(db, robin, case)
        reflections_service.share(db, robin, reflection,
                                  reflections_service.ReflectionContent(helped="Straight away"),
                                  reflection.edit_version)
        db.commit()
        assert db.get(Reflection, reflection.id).status == "shared"


NOTE_CANARIES = {
    "section_subjective": "Notecanary spoke about the flooded cellar",
    "section_objective": "Notecanary-objective restless hands",
    "section_assessment": "Notecanary-assessment grief under anger",
    "section_plan": "Notecanary-plan visit the allotment",
}


def test_no_portal_page_shows_the_counsellors_private_text(app, counsellor, case_with_client):
    w = case_with_client
    client, case_id, session_id = w["client"], w["case_id"], w["session_id"]
    base = f"/cases/{case_id}/sessions/{session_id}/note"
    assert counsellor.post(base + "/start", {"template": "soap"}).status_code == 302
    assert counsellor.post(base, {**NOTE_CANARIES, "edit_version": "1", "action": "sign",
                                  "confirm_sign": "y"}).status_code == 302
    assert counsellor.post(f"/cases/{case_id}/people",
                           {"name": "Personcanary Hollis", "relation": "uncle"}).status_code == 302
    assert counsellor.post(f"/cases/{case_id}/questions/{w['question_id']}/move",
                           {"to_state": "parked", "outcome": "Outcomecanary not yet"}
                           ).status_code == 302
    assert "Notecanary-plan" in text_of(counsellor.get(f"/cases/{case_id}/brief"))
    shared_id = write_and_share(client, stood_out="My own words")
    draft_id = start_reflection(client)
    ids = {"reflection_id": shared_id}
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not (rule.rule.startswith("/portal")):
            continue
        for values in ({"reflection_id": shared_id}, {"reflection_id": draft_id}):
            url = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
            resp = client.get(url)
            assert resp.status_code == 200, url
            pages.append(text_of(resp))
    for url in ("/", "/account", f"/portal/reflections/{ids['reflection_id']}"):
        pages.append(text_of(client.get(url, follow_redirects=True)))
    everything = "\n".join(pages)
    assert "My own words" in everything
    for secret in (*NOTE_CANARIES.values(), "Notecanary", "Personcanary", "Outcomecanary",
                   "Robin Example"):
        assert secret not in everything, secret


# --- who reaches what -------------------------------------------------------------------------


def test_a_client_never_reaches_a_counsellor_url(app, counsellor, case_with_client):
    w = case_with_client
    client = w["client"]
    reflection_id = write_and_share(client, stood_out="Mine")
    own = {"case_id": w["case_id"], "session_id": w["session_id"],
           "question_id": w["question_id"], "reflection_id": reflection_id,
           "person_id": w["question_id"], "invitation_id": w["question_id"]}
    resp = client.get("/")
    assert resp.status_code == 302 and location(resp) == "/portal/"
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/cases", "/practice")):
            continue
        url = rule.build({k: own[k] for k in rule.arguments}, append_unknown=False)[1]
        if "GET" in rule.methods:
            assert client.get(url).status_code == 404, url
        if "POST" in rule.methods:
            resp = client.post(url, {"name": "x", "to_state": "resolved", "template": "soap",
                                     "pseudonym": "x", "readmit": "1"})
            assert resp.status_code == 404, url
        checked += 1
    assert checked >= 20


def test_a_counsellor_gets_404_on_every_portal_url(app, counsellor, case_with_client):
    reflection_id = write_and_share(case_with_client["client"], stood_out="Mine")
    before = snapshot(app, LAST_SEEN)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/portal"):
            continue
        url = rule.build({k: reflection_id for k in rule.arguments}, append_unknown=False)[1]
        if "GET" in rule.methods:
            assert counsellor.get(url).status_code == 404, url
        if "POST" in rule.methods:
            resp = counsellor.post(url, {"stood_out": "Written by the wrong person",
                                         "edit_version": "2", "action": "share"})
            assert resp.status_code == 404, url
    assert snapshot(app, LAST_SEEN) == before


@pytest.fixture
def two_practices(app, counsellor):
    """ada and bea, each with a case (session, note, question, person) and a joined client
    who shared one reflection and keeps one draft."""
    bea = invite_and_join(app, counsellor, "bea")
    world = {}
    for who, browser in (("ada", counsellor), ("bea", bea)):
        case_id = new_case(browser, f"Client of {who}")
        session_id = new_session(browser, case_id)
        question_id = ask(browser, case_id, session_id, f"A question from {who}")
        browser.post(f"/cases/{case_id}/sessions/{session_id}/note/start",
                     {"template": "narrative"})
        browser.post(f"/cases/{case_id}/people", {"name": "Someone", "relation": "friend"})
        people = text_of(browser.get(f"/cases/{case_id}/people"))
        client = join_as_client(app, browser, case_id, f"client-of-{who}")
        world[who] = {
            "counsellor": browser, "client": client,
            "ids": {"case_id": case_id, "session_id": session_id, "question_id": question_id,
                    "person_id": re.search(r"/people/([0-9a-f-]{36})\"", people).group(1),
                    "reflection_id": write_and_share(client, stood_out=f"Shared by {who}")},
            "draft_id": start_reflection(client),
        }
    return world


POSTED = {"pseudonym": "x", "name": "x", "text": "x", "to_state": "resolved",
          "edit_version": "1", "held_on": "2026-01-01", "duration_minutes": "50",
          "attendance": "attended", "template": "soap", "stood_out": "Mallory was here",
          "action": "share", "readmit": "1"}


def test_access_matrix_two_counsellors_two_clients(app, two_practices):
    world = two_practices
    rules = [r for r in app.url_map.iter_rules()
             if "case_id" in r.arguments or "reflection_id" in r.arguments]
    portal_rules = [r for r in rules if r.endpoint.startswith("portal.")]
    assert len(portal_rules) >= 4 and len(rules) >= 20
    before = snapshot(app, LAST_SEEN)
    visits = 0
    for owner in ("ada", "bea"):
        ids = world[owner]["ids"]
        for rule in rules:
            url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
            owner_role = "client" if rule in portal_rules else "counsellor"
            for visitor in ("ada", "bea"):
                for role in ("counsellor", "client"):
                    if (visitor, role) == (owner, owner_role):
                        continue
                    browser = world[visitor][role]
                    if "GET" in rule.methods:
                        resp = browser.get(url)
                        assert resp.status_code == 404, (visitor, role, url, resp.status_code)
                        assert f"Shared by {owner}" not in text_of(resp)
                    if "POST" in rule.methods:
                        resp = browser.post(url, POSTED)
                        assert resp.status_code == 404, (visitor, role, url, resp.status_code)
                    visits += 1
            # A draft is nobody's but its writer's, by any route.
            if "reflection_id" in rule.arguments:
                draft_url = rule.build({**{k: ids[k] for k in rule.arguments},
                                        "reflection_id": world[owner]["draft_id"]},
                                       append_unknown=False)[1]
                for visitor in ("ada", "bea"):
                    for role in ("counsellor", "client"):
                        if (visitor, role) == (owner, "client"):
                            continue
                        browser = world[visitor][role]
                        if "GET" in rule.methods:
                            assert browser.get(draft_url).status_code == 404, draft_url
                        if "POST" in rule.methods:
                            assert browser.post(draft_url, POSTED).status_code == 404, draft_url
    assert visits > 100
    assert snapshot(app, LAST_SEEN) == before, "a refused request changed something"

    # The owners themselves get every page.
    for owner in ("ada", "bea"):
        ids = world[owner]["ids"]
        for rule in rules:
            if "GET" not in rule.methods:
                continue
            url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
            browser = world[owner]["client" if rule in portal_rules else "counsellor"]
            resp = browser.get(url)
            assert resp.status_code == 200, (owner, url, resp.status_code)
        draft = world[owner]["client"].get(f"/portal/reflections/{world[owner]['draft_id']}")
        assert draft.status_code == 200


# --- two tabs, limits, bad input --------------------------------------------------------------


def test_two_tabs_never_overwrite_each_other(app, counsellor, case_with_client):
    client = case_with_client["client"]
    reflection_id = start_reflection(client)
    opened = reflection_version(client, reflection_id)  # both tabs open at this version

    resp = autosave(client, reflection_id, opened, stood_out="Written in tab one")
    assert resp.status_code == 200
    current = resp.json["edit_version"]
    resp = autosave(client, reflection_id, opened, stood_out="Written in tab two")
    assert resp.status_code == 409
    assert resp.json["conflict"] is True and resp.json["edit_version"] == current
    assert "Written in tab one</textarea>" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))

    # Without JavaScript: a kind 409 page that keeps what this tab typed.
    resp = save(client, reflection_id, opened, stood_out="Tab two, typed by hand")
    assert resp.status_code == 409
    page = text_of(resp)
    assert "changed in another tab" in page
    assert "Tab two, typed by hand</textarea>" in page
    assert f'name="edit_version" type="hidden" value="{current}"' in page
    assert "Written in tab one</textarea>" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))
    # Saving again from that page (it carries the current version) keeps this tab's words.
    assert save(client, reflection_id, current,
                stood_out="Tab two, typed by hand").status_code == 302
    assert "Tab two, typed by hand</textarea>" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))


def test_limits_and_bad_input_are_handled_kindly(app, counsellor, case_with_client):
    client, question_id = case_with_client["client"], case_with_client["question_id"]
    reflection_id = start_reflection(client)
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert "Up to 10,000 characters" in page and 'maxlength="10000"' in page
    version = reflection_version(client, reflection_id)

    too_long = "Words that go on " * 600  # 10,200 characters
    resp = autosave(client, reflection_id, version, hard=too_long)
    assert resp.status_code == 400 and resp.json["ok"] is False
    resp = save(client, reflection_id, version, hard=too_long)
    assert resp.status_code == 400
    page = text_of(resp)
    assert "longer than we can keep" in page
    assert too_long.strip() in page  # what was typed is still in the form
    assert reflection_version(client, reflection_id) == version  # nothing was saved
    resp = autosave(client, reflection_id, version,
                    **{f"answer_{question_id}": "x" * (reflections_service.MAX_ANSWER + 1)})
    assert resp.status_code == 400
    # Exactly at the limit is fine.
    resp = autosave(client, reflection_id, version, hard="z" * 10_000)
    assert resp.status_code == 200
    version = resp.json["edit_version"]

    # Ratings outside 0-10 or not numbers are ignored; unknown answer keys too.
    for week, session in (("11", "-1"), ("abc", "7.5"), ("", "999999999999"), ("1e1", " 3")):
        fields = {"week_rating": week, "session_rating": session, "answer_nope": "x",
                  "answer_../../etc": "x", f"answer_{question_id}x": "x", "answer_": "x"}
        resp = autosave(client, reflection_id, version, **fields)
        assert resp.status_code == 200, (week, session)
        version = resp.json["edit_version"]
        resp = save(client, reflection_id, version, **fields)
        assert resp.status_code == 302, (week, session)
        version = reflection_version(client, reflection_id)
    assert save(client, reflection_id, version, week_rating="7",
                session_rating="0").status_code == 302
    with session_for(app) as db:
        robin = keyring_for(app, db, "robin", CLIENT_PASSPHRASE)
        draft = db.scalar(select(ReflectionVersion)
                          .where(ReflectionVersion.reflection_id == reflection_id))
        content = reflections_service.open_version(robin, draft)
    assert (content.week_rating, content.session_rating) == (7, 0)
    assert content.answers == {}
    # A missing or junk edit version is a conflict, not an error.
    for junk in ("", "abc", "9" * 30, "-1"):
        resp = client.post(f"/portal/reflections/{reflection_id}/autosave",
                           {"edit_version": junk, "stood_out": "x"}, headers=_JSON)
        assert resp.status_code == 409, junk


def test_a_closed_case_is_read_only_for_the_client(app, counsellor, case_with_client):
    client, case_id = case_with_client["client"], case_with_client["case_id"]
    shared_id = write_and_share(client, stood_out="Written while it was open")
    draft_id = start_reflection(client)
    version = reflection_version(client, draft_id)
    assert counsellor.post(f"/cases/{case_id}/close").status_code == 302

    home = text_of(client.get("/portal/"))
    assert "Your counselling has finished" in home and "Write a reflection" not in home
    page = text_of(client.get(f"/portal/reflections/{shared_id}"))
    assert "Written while it was open" in page and "Add to or change" not in page

    resp = client.post("/portal/reflections/new", follow_redirects=True)
    assert resp.status_code == 200 and "new reflections can&#39;t be added" in text_of(resp)
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(Reflection)) == 2

    before = snapshot(app, LAST_SEEN)
    resp = autosave(client, draft_id, version, stood_out="Typed after closing")
    assert resp.status_code in (400, 409) and resp.json["ok"] is False
    for action in ("share", "save"):
        resp = save(client, draft_id, version, action, stood_out="Typed after closing")
        assert resp.status_code in (400, 409), action
        assert "Typed after closing" in text_of(resp)
    assert client.post(f"/portal/reflections/{shared_id}/amend").status_code in (400, 409)
    assert snapshot(app, LAST_SEEN) == before

    # Reopened, the client can write again.
    assert counsellor.post(f"/cases/{case_id}/reopen").status_code == 302
    assert autosave(client, draft_id, version, stood_out="Open again").status_code == 200


def test_an_erased_case_takes_the_clients_account_with_it(app, counsellor, case_with_client):
    w = case_with_client
    client, case_id = w["client"], w["case_id"]
    write_and_share(client, stood_out="Soon gone",
                    **{f"answer_{w['question_id']}": "An answer, soon gone"})
    start_reflection(client)
    with session_for(app) as db:
        client_id = db.get(Case, case_id).client_id
        pseudonym = db.get(Case, case_id).pseudonym
    resp = counsellor.post(f"/cases/{case_id}/erase", {"pseudonym": pseudonym})
    assert resp.status_code == 302

    with session_for(app) as db:
        assert db.get(User, client_id) is None
        for model, column in ((Reflection, Reflection.client_id),
                              (WebSession, WebSession.user_id),
                              (CaseKey, CaseKey.recipient_id)):
            assert db.scalar(select(func.count()).select_from(model)
                             .where(column == client_id)) == 0, model
        assert db.scalar(select(func.count()).select_from(ReflectionVersion)) == 0

    resp = client.get("/portal/")
    assert resp.status_code == 302 and location(resp).startswith("/login")
    erased = Browser(app.test_client())
    unknown = Browser(app.test_client())
    resp_erased = sign_in(erased, "robin", CLIENT_PASSPHRASE)
    resp_unknown = sign_in(unknown, "nobody-here", CLIENT_PASSPHRASE)
    assert resp_erased.status_code == resp_unknown.status_code == 200
    assert "don&#39;t match" in text_of(resp_erased)
    assert (without_tokens(text_of(resp_erased)).replace("robin", "NAME")
            == without_tokens(text_of(resp_unknown)).replace("nobody-here", "NAME"))
    resp = erased.post("/portal/resume", {"login_name": "robin",
                                          "passphrase": CLIENT_PASSPHRASE})
    assert resp.status_code == 401


# --- amendments -------------------------------------------------------------------------------


def test_an_amendment_keeps_the_earlier_version_and_is_unread_again(app, counsellor,
                                                                    case_with_client):
    client, case_id = case_with_client["client"], case_with_client["case_id"]
    reflection_id = write_and_share(client, stood_out="First words, as shared")
    url = f"/cases/{case_id}/reflections/{reflection_id}"
    assert "First words, as shared" in text_of(counsellor.get(url))
    assert "Read by your counsellor on" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))

    assert client.post(f"/portal/reflections/{reflection_id}/amend").status_code == 302
    # Amending twice does not stack drafts.
    assert client.post(f"/portal/reflections/{reflection_id}/amend").status_code == 302
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert "First words, as shared</textarea>" in page
    assert "Share these changes with my counsellor" in page
    assert "changes not shared yet" in text_of(client.get("/portal/"))
    # The counsellor still sees only the shared text while the client edits.
    resp = autosave(client, reflection_id, reflection_version(client, reflection_id),
                    stood_out="Second words, still private")
    assert resp.status_code == 200
    page = text_of(counsellor.get(url))
    assert "Second words" not in page and "Earlier version" not in page

    resp = save(client, reflection_id, reflection_version(client, reflection_id), "share",
                stood_out="Second words, now shared")
    assert resp.status_code == 302
    # Read state follows the latest version.
    page = text_of(client.get(f"/portal/reflections/{reflection_id}"))
    assert "not opened it yet" in page and "Read by your counsellor" not in page
    assert "not opened yet" in text_of(client.get("/portal/"))
    assert re.search(r'class="tag tag-unread">1 reflection<', text_of(counsellor.get("/")))
    case_page = text_of(counsellor.get(f"/cases/{case_id}"))
    assert "tag-unread" in case_page and ">amended<" in case_page

    page = text_of(counsellor.get(url))
    latest, earlier = page.index("Latest version"), page.index("Earlier version")
    assert latest < page.index("Second words, now shared") < earlier
    assert earlier < page.index("First words, as shared")
    assert "Read by your counsellor on" in text_of(
        client.get(f"/portal/reflections/{reflection_id}"))
    with session_for(app) as db:
        versions = db.scalars(select(ReflectionVersion)
                              .where(ReflectionVersion.reflection_id == reflection_id)
                              .order_by(ReflectionVersion.number)).all()
        assert [(v.number, v.scope) for v in versions] == [(1, SHARED_SCOPE), (2, SHARED_SCOPE)]
        assert all(v.read_at is not None for v in versions)


# --- the brief --------------------------------------------------------------------------------


def test_the_brief_of_an_empty_case_renders(counsellor):
    case_id = new_case(counsellor, "Brand New")
    resp = counsellor.get(f"/cases/{case_id}/brief")
    page = text_of(resp)
    assert resp.status_code == 200
    assert "No session scheduled yet." in page and "no ratings yet" in page
    assert "No plan written in the last note." in page and "<svg" not in page


def test_the_brief_draws_the_ratings_and_finds_the_plan(app, counsellor, case_with_client):
    client, case_id = case_with_client["client"], case_with_client["case_id"]
    first_session = case_with_client["session_id"]

    write_and_share(client, stood_out="One week", week_rating="4", session_rating="8")
    page = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert "<svg" not in page and "4/10" in page  # one point is not a line
    write_and_share(client, stood_out="Another week", week_rating="6", session_rating="5")
    page = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert page.count("<svg") == 2 and page.count("<polyline") == 2
    assert "6/10" in page and "+2" in page and "-3" in page
    assert re.search(r'<polyline points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"', page)

    # The plan comes from the SOAP note's plan section ...
    base = f"/cases/{case_id}/sessions/{first_session}/note"
    assert counsellor.post(base + "/start", {"template": "soap"}).status_code == 302
    assert counsellor.post(base, {"section_subjective": "Tired", "edit_version": "1",
                                  "section_plan": "Try the breathing exercise"}
                           ).status_code == 302
    page = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert "Try the breathing exercise" in page and "From the note of session 1." in page
    assert "Tired" not in page

    # ... and from the newest note, a narrative's "Plan:" heading.
    second = new_session(counsellor, case_id, "2026-11-16")
    base = f"/cases/{case_id}/sessions/{second}/note"
    assert counsellor.post(base + "/start", {"template": "narrative"}).status_code == 302
    assert counsellor.post(base, {"edit_version": "1", "section_narrative":
                                  "Themes:\nwork stress\n\nPlan:\nWalk at lunch\nCall her sister"
                                  "\n\nRisk:\nnone noted"}).status_code == 302
    page = text_of(counsellor.get(f"/cases/{case_id}/brief"))
    assert "Walk at lunch\nCall her sister" in page and "From the note of session 2." in page
    assert "Try the breathing exercise" not in page
    assert "work stress" not in page and "none noted" not in page


def test_an_invitation_that_expires_unused_loses_its_key_wrap(app, counsellor):
    from datetime import timedelta

    from sqlalchemy import select as sa_select

    from journal.db import session_for
    from journal.models import ClientInvitation
    from journal.models.common import utcnow

    from conftest import invitation_link, new_case

    invitation_link(counsellor, new_case(counsellor))
    with session_for(app) as db:
        invitation = db.scalar(sa_select(ClientInvitation))
        assert invitation.shared_key_wrapped is not None
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.commit()
    result = app.test_cli_runner().invoke(args=["end-expired-sessions"])
    assert "deleted the keys of 1 expired invitation(s)" in result.output
    with session_for(app) as db:
        assert db.scalar(sa_select(ClientInvitation.shared_key_wrapped)) is None


def test_the_clients_list_shows_fifty_reflections_a_page(case_with_client):
    """The home page lists reflections fifty at a time, newest first, with a way to older ones
    (and reads no reflection's text to do it)."""
    client = case_with_client["client"]
    ids = [start_reflection(client) for _ in range(51)]
    first = text_of(client.get("/portal/"))
    assert first.count("/portal/reflections/") - first.count("/portal/reflections/new") == 50
    assert ids[-1] in first and ids[0] not in first
    assert "Older reflections" in first and "Newer reflections" not in first
    second = text_of(client.get("/portal/?page=2"))
    assert ids[0] in second and ids[-1] not in second
    assert "Newer reflections" in second and "Older reflections" not in second
