"""Fuzzing every route as every role (DESIGN 3, "Around it"): thousands of malformed requests —
odd unicode, NUL bytes, huge bodies, bad and borrowed ids, missing and extra fields, wrong
methods, forged or missing CSRF tokens, JSON and multipart bodies, odd query strings — and
never a 5xx, and never a change to another counsellor's (or their client's) data.

One app and one set of users per run; Hypothesis draws the requests, a batch per example.
JOURNAL_FUZZ_REQUESTS sets how many requests (default 10,000); JOURNAL_FUZZ_SEED the seed.
`pytest -s tests/test_fuzz.py` prints the count, the time and a histogram of statuses.
"""

from __future__ import annotations

import io
import os
import re
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask
from flask.testing import EnvironBuilder
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import or_, select

from journal.db import Base, engine_for

from conftest import (
    Browser,
    invitation_link,
    invite_and_join,
    join_as_client,
    new_case,
    new_session,
    set_up_practice,
    share_reflection,
    sign_in,
    start_reflection,
)

TARGET = int(os.environ.get("JOURNAL_FUZZ_REQUESTS", "10000"))
SEED = int(os.environ.get("JOURNAL_FUZZ_SEED", "20261102"))
BATCH = 10  # requests per Hypothesis example: its choice buffer (8 KB) holds about this many
SESSION_COOKIE = "journal"  # the sign-in cookie's name over plain http (security.py)
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
# Columns that tie a row to a user or to a case. Not audit_events.object_id: anyone may fail
# to sign in as someone else, and that attempt is audited under the account tried.
OWNER_COLUMNS = {"counsellor_id", "client_id", "user_id", "invited_by", "created_by",
                 "author_id", "actor_id", "recipient_id", "case_id"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Ids a redirect reveals (a new case, session or reflection) join the fuzzing pool.
LEARN = {"case_id": re.compile(rf"^/cases/({UUID.pattern})"),
         "session_id": re.compile(rf"/sessions/({UUID.pattern})"),
         "reflection_id": re.compile(rf"^/portal/reflections/({UUID.pattern})")}

# --- what goes into a request -----------------------------------------------------------------

SECTION_FIELDS = ["section_narrative", "section_subjective", "section_objective",
                  "section_assessment", "section_plan", "section_data", "section_behaviour",
                  "section_intervention", "section_response"]
REFLECTION_FIELDS = ["edit_version", "action", "stood_out", "helped", "hard", "for_counsellor",
                     "week_rating", "session_rating", "week_rating_skip", "session_rating_skip",
                     "answer_"]
PASSPHRASE_FIELDS = ["passphrase", "confirm"]
FIELDS_BY_ENDPOINT: dict[str, list[str]] = {
    "auth.setup": ["setup_code", "practice_name", "login_name", *PASSPHRASE_FIELDS],
    "auth.login": ["login_name", "passphrase", "next"],
    "auth.join_submit": ["secret", "login_name", *PASSPHRASE_FIELDS],
    "portal.invite_submit": ["secret", "login_name", *PASSPHRASE_FIELDS],
    "auth.recover": ["login_name", "recovery_code", *PASSPHRASE_FIELDS],
    "auth.change_passphrase": ["current", *PASSPHRASE_FIELDS],
    "auth.new_recovery_code": ["passphrase"],
    "auth.confirm_recovery_code": ["stored"],
    "portal.resume": ["login_name", "passphrase"],
    "auth.second_factor": ["code", "next"],
    "auth.confirm_two_factor": ["code"],
    "auth.backup_codes_stored": ["stored"],
    "auth.new_backup_codes": ["passphrase"],
    "auth.turn_off_two_factor": ["passphrase"],
    "cases.new_case": ["name", "preferred_name", "date_of_birth", "contact"],
    "cases.edit_profile": ["name", "preferred_name", "date_of_birth", "contact"],
    "cases.erase_case": ["pseudonym"],
    "cases.people_page": ["name", "relation"],
    "cases.edit_person": ["name", "relation"],
    "cases.new_session": ["held_on", "duration_minutes", "attendance"],
    "cases.edit_session": ["held_on", "duration_minutes", "attendance"],
    "cases.start_note": ["template", "from_last"],
    "cases.save_note": ["edit_version", "reason", "confirm_sign", "action", *SECTION_FIELDS],
    "cases.ask_question": ["text"],
    "cases.move_question": ["to_state", "outcome", "session_id"],
    "cases.invite_client": ["readmit"],
    "cases.search": ["query"],
    "portal.save_reflection": REFLECTION_FIELDS,
    "portal.autosave": REFLECTION_FIELDS,
}
ALL_FIELDS = sorted({f for fields in FIELDS_BY_ENDPOINT.values() for f in fields}
                    | {"csrf_token", "page", "closed", "id", "case_id", "reflection_id"})
# Plausible values, so that some requests get past validation and really change things.
# Never the real passphrase (a role could change it) nor a case's pseudonym (erase).
BOOLEANS = ["y", "1", "on", "0", "", "true", "n"]
PLAUSIBLE: dict[str, list[str]] = {
    "login_name": ["ada", "bea", "cleo", "dan", "ab", "x" * 65, "ada\x00", " ada "],
    "passphrase": ["another quiet harbour", "short", "password123456", "a" * 129],
    "confirm": ["another quiet harbour", "short", "something different entirely"],
    "current": ["another quiet harbour", "not my passphrase at all"],
    "next": ["/", "//evil.example", "/\t/evil.example", "http://evil.example/", "/cases/new",
             "javascript:alert(1)", "/\\evil.example", "/portal/"],
    "setup_code": ["AAAA-BBBB-CCCC", "0" * 64],
    "practice_name": ["Harbour", "A\x01B"],
    "secret": ["x" * 43, "https://localhost/join#abc", "#", "not-a-secret"],
    "code": ["123456", "000000", "12 34 56", "1234567", "²²²²²²", "١٢٣٤٥٦", "１２３４５６",
             "K7QXM-3PZRA", "k7qxm3pzra", "x" * 33],
    "recovery_code": ["ABCD-EFGH-IJKL-MNOP", "NEVR-ECHO-CODE"],
    "stored": BOOLEANS, "from_last": BOOLEANS, "confirm_sign": BOOLEANS, "readmit": BOOLEANS,
    "week_rating_skip": BOOLEANS, "session_rating_skip": BOOLEANS,
    "name": ["Kim", "Ana María", "李小龍", "   ", "x" * 201],
    "preferred_name": ["Kim", ""], "relation": ["sister", "妻子", "x" * 201],
    "contact": ["07700 900000", "x" * 1001],
    "date_of_birth": ["1990-05-01", "2026-02-30", "0001-01-01", "9999-12-31", "01/02/1990", ""],
    "held_on": ["2026-11-02", "2026-02-30", "1900-01-01", "9999-12-31", "2026-13-01",
                "20261102", ""],
    "duration_minutes": ["50", "5", "600", "4", "601", "-1", "0", "1e3", "9" * 30, "５０"],
    "attendance": ["attended", "scheduled", "cancelled", "did_not_attend", "nope"],
    "template": ["narrative", "soap", "dap", "birp", "nope"],
    "edit_version": ["1", "2", "3", "4", "5", "0", "-1", "999999999", "9" * 12, "abc",
                     "²", "①", "٣", "１"],
    "action": ["save", "sign", "share", "amend", ""],
    "to_state": ["open", "answered", "resolved", "parked", "nope"],
    "week_rating": ["0", "5", "10", "11", "-1", "²", "①", "٣", "１", "7.5"],
    "session_rating": ["0", "5", "10", "11", "-1", "²", "①", "٣", "１", ""],
    "reason": ["Correction after supervision", ""],
    "text": ["What would rest look like?", ""],
    "pseudonym": ["C-AAAA", "", "c-0000"],
    "page": ["1", "2", "0", "-1", "99999", "999999", "²", "①", "٣", "abc", ""],
    "closed": ["1", "0", "yes"],
    "query": ["diary", "睡眠", "Keep a DIARY", "a", "", "plan", '"no"', "x" * 201],
}
SPECIAL = [
    "", " ", "\x00", "a\x00b", "\x00" * 40, "\u202eevil.exe\u202c", "שלום עולם", "مرحبا بالعالم",
    "😀👩‍👩‍👧‍👦🏳️‍🌈", "漢字かな交じり文", "\ufeffBOM", "\u200b\u200d", "\r\n", "\n" * 50, "\t",
    "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "' OR 1=1 --", "%00", "%", "%zz",
    "../", "../../etc/passwd", "..\\..\\", "0", "-1", "1e309", "NaN", "inf",
    "99999999999999999999", "²", "①", "٣", "１", "true", "null", "[]", "{}", "\\", "\"", "'",
    "&amp;", "C-AAAA", "Ω≈ç√∫", "\U0010ffff", "\x7f", "\x1b[31m", "a" * 255,
]
GARBAGE_IDS = [
    "", "garbage", "%00", "\x00", "../", "../../etc/passwd", "..%2f..%2f", ".", "..", "0" * 36,
    "00000000-0000-0000-0000-000000000000", "x" * 4000, "1;DROP TABLE cases", "ü" * 40, "%",
    "null", "-1", "1", "{}", "😀", "\u202e", "*", "%2e%2e%2f", "a/b", "\\", "\ufeff",
]
STATIC_FILES = ["css/journal.css", "js/reflection.js", "js/fragment.js", "favicon.svg",
                "../../pyproject.toml", "..%2f..%2fjournal%2f__init__.py", "/etc/passwd",
                "css/../../journal/config.py", "nope.css", "css/"]
RAW_BODIES: list[tuple[str, bytes]] = [
    ("application/x-www-form-urlencoded", b"a=%ff&&=&%%%=\x00&name=%E2%80%AE"),
    ("application/x-www-form-urlencoded; charset=latin-1", "name=\xe9".encode("latin-1")),
    ("multipart/form-data; boundary=zzz", b"--zzz\r\nContent-Disposition: form-data; name="),
    ("multipart/form-data", b"no boundary at all"),
    ("multipart/form-data; boundary=zzz", b"--zzz\r\n\r\n--zzz--\r\n"),
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2, 3]"),
    ("text/plain; charset=utf-16", "name=Kim".encode("utf-16")),
    ("application/octet-stream", bytes(range(256))),
    ("", b"\xff\xfe\x00\x00"),
]
ODD_JSON = [[1, 2], "x", None, 3.5, True, {"a": {"b": []}}, {"name": 5, "text": None},
            {"held_on": {"y": 2026}, "duration_minutes": [50], "edit_version": 1.5}]
HEADERS = [{}, {}, {}, {"Accept-Language": "xx-YY;q=abc, *;q=-1"},
           {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"},
           {"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"},
           {"Referer": "https://evil.example/"}, {"Origin": "null"},
           {"If-Modified-Since": "garbage"}, {"Range": "bytes=9-1"}]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
# Digits of every script: str.isdigit() accepts "²" and "①", which int() and
# hmac.compare_digest() refuse.
digits = st.text(st.sampled_from("0123456789 -+.²³¹①٣١٢٤５６０"), min_size=1, max_size=8)
short_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


def huge(draw: Callable) -> str:
    """A long string, sometimes over MAX_CONTENT_LENGTH (512 KiB) on its own."""
    piece = draw(st.sampled_from(["x", "é", "漢", "😀", "\u202e", "a\x00", "<>&", "\r\n"]))
    size = draw(st.sampled_from([2_000, 10_001, 20_001, 100_000, 300_000, 500_000, 530_000,
                                 600_000]))
    return piece * (size // len(piece.encode()) + 1)


@dataclass
class Role:
    """Someone sending requests: anonymous, or signed in with their own browser."""

    name: str
    browser: Browser
    login: str | None = None  # None: never signs in
    owner: str | None = None  # "A" or "B": whose ids are this role's own

    def ensure_signed_in(self, app: Flask) -> int:
        """Sign in again if a fuzzed sign-out ended this role's session; 1 if it did."""
        if self.login is None or self.browser.client.get_cookie(SESSION_COOKIE) is not None:
            return 0
        # The fuzzing has long used up this account's sign-in budget with wrong passphrases.
        limiter = app.extensions.get("journal_limiter")
        if limiter is not None:
            limiter.enabled = False
        try:
            resp = sign_in(self.browser, self.login)
        finally:
            if limiter is not None:
                limiter.enabled = True
        assert resp.status_code == 302, (self.name, resp.status_code)
        return 1


@dataclass
class Request:
    role: Role
    endpoint: str
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    address: str = "127.0.0.1"

    def describe(self) -> str:
        def short(value: Any) -> Any:
            if isinstance(value, dict):
                return {short(k): short(v) for k, v in value.items()}
            shown = repr(value)
            return value if len(shown) < 120 else f"<{shown[:60]}… ({len(shown)} chars)>"

        body = short(self.body)
        path = self.path if len(self.path) < 300 else self.path[:300] + "…"
        return (f"{self.role.name} from {self.address}: {self.method} {path} ({self.endpoint}) "
                f"{body} {self.headers}")


@dataclass
class Fuzzer:
    app: Flask
    pools: dict[str, dict[str, list[str]]]  # owner -> id kind -> real ids
    sent: int = 0
    sign_ins: int = 0
    statuses: Counter = field(default_factory=Counter)
    endpoints: Counter = field(default_factory=Counter)
    reached: Counter = field(default_factory=Counter)  # 2xx/3xx answers per endpoint
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # first of a kind

    def __post_init__(self) -> None:
        self.rules = sorted(self.app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))

    # -- drawing -------------------------------------------------------------------------------

    def draw_id(self, draw: Callable, kind: str, pool: dict[str, list[str]] | None) -> str:
        # Every choice is drawn whatever the pools hold (they grow as the run goes on), so
        # Hypothesis sees the same shape of draws for the same choices.
        roll, pick = draw(st.integers(0, 99)), draw(st.integers(0, 2**16))
        if kind == "filename":
            return STATIC_FILES[pick % len(STATIC_FILES)] if roll < 50 else draw(text)
        if pool is not None and pool.get(kind) and roll < 85:
            return pool[kind][pick % len(pool[kind])]
        if roll % 10 < 4:
            return GARBAGE_IDS[pick % len(GARBAGE_IDS)]
        if roll % 10 < 6:
            every = [i for p in self.pools.values() for ids in p.values() for i in ids]
            real = every[pick % len(every)]
            return [real, real.upper(), real + "\x00", " " + real, real[:-1], real + "/",
                    real + "x" * 300][roll % 7]
        if roll % 10 < 8:
            return str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
        return draw(text)

    def draw_path(self, draw: Callable, role: Role, rule: Any) -> str:
        owners = sorted(self.pools)
        own = role.owner or draw(st.sampled_from(owners))
        mode = draw(st.integers(0, 99))
        if mode < 65:
            pool: dict[str, list[str]] | None = self.pools[own]
        elif mode < 85:
            pool = self.pools[next(o for o in owners if o != own)]
        else:
            pool = None
        raw = draw(st.integers(0, 9)) == 0  # sometimes unquoted: "../" and "%00" as they are

        def value(match: re.Match) -> str:
            kind = match.group(1).split(":")[-1]
            chosen = self.draw_id(draw, kind, pool)
            return quote(chosen, safe="/%.:") if raw else quote(chosen, safe="")

        path = re.sub(r"<([^>]+)>", value, rule.rule)
        query = draw(st.integers(0, 9))
        if query < 3:
            pairs = [(draw(st.sampled_from(["page", "page", "closed", "next", "x", "page[]"])),
                      self.draw_value(draw, "page")) for _ in range(draw(st.integers(1, 3)))]
            path += "?" + urlencode(pairs)
        elif query == 3:
            path += "?" + draw(st.sampled_from(["%%%", "a=%00", "&&&=", "page=" + "9" * 40,
                                                "next=//evil.example", "=", "?", "page=%C2%B2",
                                                "closed=1&closed=0", "x=" + "y" * 5000]))
        return path

    def draw_value(self, draw: Callable, name: str) -> str:
        roll = draw(st.integers(0, 199))
        if roll < 70 and name in PLAUSIBLE:
            return draw(st.sampled_from(PLAUSIBLE[name]))
        if roll < 100:
            return draw(text)
        if roll < 140:
            return draw(st.sampled_from(SPECIAL))
        if roll < 160:
            return draw(digits)
        if roll < 190:
            return self.draw_id(draw, "id", None)
        if roll < 197:
            return draw(text) * draw(st.integers(50, 500))
        return huge(draw)

    def draw_fields(self, draw: Callable, role: Role, endpoint: str) -> dict[str, Any]:
        names: list[str] = []
        if draw(st.integers(0, 9)) < 8:
            names = [n for n in FIELDS_BY_ENDPOINT.get(endpoint, []) if draw(st.integers(0, 9))]
        for _ in range(draw(st.integers(0, 2))):
            names.append(draw(st.sampled_from(ALL_FIELDS)) if draw(st.booleans())
                         else draw(short_text))
        fields: dict[str, Any] = {}
        for name in names:
            if name == "answer_":
                name += self.draw_id(draw, "question_id", self.pools.get(role.owner or "A"))
            if name == "session_id" and draw(st.booleans()):
                fields[name] = self.draw_id(draw, "session_id",
                                            self.pools.get(role.owner or "A"))
                continue
            fields[name] = self.draw_value(draw, name)
            if draw(st.integers(0, 19)) == 0:  # the same field twice
                fields[name] = [fields[name], self.draw_value(draw, name)]
        return fields

    def draw_request(self, draw: Callable, roles: list[Role]) -> Request:
        role = draw(st.sampled_from(roles))
        rule = draw(st.sampled_from(self.rules))
        allowed = sorted(rule.methods or ())
        method = draw(st.sampled_from(allowed if draw(st.integers(0, 3)) else METHODS))
        path = self.draw_path(draw, role, rule)
        # Several addresses, so the per-address throttles answer 429 only some of the time.
        address = draw(st.integers(0, 40))
        request = Request(role, rule.endpoint, method, path,
                          headers=dict(draw(st.sampled_from(HEADERS))),
                          address=f"10.0.0.{address}" if address % 8 else f"2001:db8::{address}")
        if method in ("GET", "HEAD", "OPTIONS") and draw(st.integers(0, 9)):
            return request
        fields = self.draw_fields(draw, role, rule.endpoint)
        csrf = draw(st.integers(0, 99))
        token: str | None = None
        if csrf < 88:
            token = role.browser.token()
        elif csrf < 92:
            token = draw(st.sampled_from(["forged", "", "\x00", "x" * 5000]))
        elif csrf < 96:
            token = draw(st.sampled_from([r for r in roles if r is not role] or roles)
                         ).browser.token()
        encoding = draw(st.integers(0, 99))
        if encoding < 80:
            if token is not None:
                fields.setdefault("csrf_token", token)
            request.body = {"data": fields}
        elif encoding < 88:
            if token is not None:
                fields.setdefault("csrf_token", token)
            if draw(st.booleans()):
                fields[draw(st.sampled_from(["file", "name", "text", "stood_out"]))] = (
                    io.BytesIO(draw(st.binary(max_size=64))), draw(short_text))
            request.body = {"data": fields, "content_type": "multipart/form-data"}
        elif encoding < 95:
            if token is not None:
                request.headers["X-CSRFToken"] = token
            request.body = {"json": fields if draw(st.integers(0, 4)) else
                            draw(st.sampled_from(ODD_JSON))}
        else:
            if token is not None:
                request.headers["X-CSRFToken"] = token
            content_type, raw = draw(st.sampled_from(RAW_BODIES))
            request.body = {"data": raw, "content_type": content_type}
        return request

    # -- sending -------------------------------------------------------------------------------

    def send(self, request: Request) -> None:
        """Send one request; never raises (Hypothesis would replay it against a changed app):
        anything that goes wrong is recorded and reported after the run."""
        role = request.role
        try:
            self.sign_ins += role.ensure_signed_in(self.app)
            built = EnvironBuilder(self.app, path=request.path, method=request.method,
                                   headers=request.headers,
                                   environ_base={"REMOTE_ADDR": request.address},
                                   **request.body)
            try:
                prepared = built.get_request()
            finally:
                built.close()
        except Exception as exc:  # noqa: BLE001 - reported after the run
            self.failed(request, f"the test could not send it: {exc!r}"[:200],
                        traceback.format_exc())
            return
        self.sent += 1
        self.endpoints[request.endpoint] += 1
        try:
            resp = role.browser.client.open(prepared)
        except Exception as exc:  # noqa: BLE001 - TESTING re-raises what would be a 500
            self.statuses["exception"] += 1
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno}"
            tail = "".join(traceback.format_exception(exc)[-4:])
            self.failed(request, f"{type(exc).__name__} at {where}", tail)
            return
        finally:
            prepared.input_stream.close()  # a big multipart body is spooled to a temp file
        status = resp.status_code
        location = resp.headers.get("Location", "")
        resp.close()
        self.statuses[status] += 1
        if status >= 500:
            self.failed(request, str(status), "")
        if status < 400:
            self.reached[request.endpoint] += 1
        if role.login and role.owner and status in (301, 302, 303):
            pool = self.pools[role.owner]
            for kind, pattern in LEARN.items():
                match = pattern.search(location)
                if match and match.group(1) not in pool[kind] and len(pool[kind]) < 30:
                    pool[kind].append(match.group(1))
        if role.login and status == 401 and request.endpoint != "portal.resume":
            # Signed out on the server's side: start afresh.
            role.browser.client.delete_cookie(SESSION_COOKIE)

    def failed(self, request: Request, what: str, detail: str) -> None:
        seen = self.failures.setdefault((request.endpoint, what), [])
        if len(seen) < 2:
            seen.append(f"{request.describe()}\n{detail}")
        else:
            seen.append("")

    def report(self) -> str:
        return "\n\n".join(f"{endpoint}: {what}, {len(seen)} times, e.g.\n{seen[0]}"
                             for (endpoint, what), seen in self.failures.items())

    def run(self, roles: list[Role], count: int, phase: int) -> None:
        """Send `count` fuzzed requests from these roles, BATCH per Hypothesis example."""
        goal = self.sent + count
        rounds = 0
        while self.sent < goal:
            self.hypothesis_round(roles, goal, seed_value=SEED * 1000 + phase * 100 + rounds)()
            rounds += 1
            assert rounds < 50, "Hypothesis keeps stopping early"

    def hypothesis_round(self, roles: list[Role], goal: int, seed_value: int) -> Callable:
        examples = max(1, -(-(goal - self.sent) // BATCH))

        @st.composite
        def requests(draw: Callable) -> Request:
            return self.draw_request(draw, roles)

        @seed(seed_value)
        @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(data=st.data())
        def batch(data: st.DataObject) -> None:
            # Always a whole batch (stopping early would change the shape of the draws).
            for _ in range(BATCH):
                self.send(data.draw(requests()))

        return batch


# --- the world being fuzzed -------------------------------------------------------------------


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def edit_version(page: str) -> str:
    return re.search(r'name="edit_version" type="hidden" value="(\d+)"', page).group(1)


def populate(app: Flask, counsellor: Browser, client_login: str, name: str
             ) -> tuple[dict[str, list[str]], Browser]:
    """A counsellor's cases with everything in them, and the client of the first, in the UI."""
    case_id = new_case(counsellor, name, preferred_name="Rob", contact="07700 900000",
                       date_of_birth="1990-05-01")
    first = new_session(counsellor, case_id)
    second = new_session(counsellor, case_id, held_on="2026-11-09")
    base = f"/cases/{case_id}/sessions"
    assert counsellor.post(f"{base}/{first}/note/start",
                           {"template": "narrative"}).status_code == 302
    assert counsellor.post(f"{base}/{second}/note/start", {"template": "soap"}).status_code == 302
    page = text_of(counsellor.get(f"{base}/{second}/note"))
    assert counsellor.post(f"{base}/{second}/note", {
        "section_subjective": "Said the week was calmer", "action": "sign",
        "confirm_sign": "y", "edit_version": edit_version(page)}).status_code == 302
    assert counsellor.post(f"/cases/{case_id}/people",
                           {"name": "Sam", "relation": "brother"}).status_code == 302
    person_id = re.findall(rf"/cases/{case_id}/people/({UUID.pattern})",
                           text_of(counsellor.get(f"/cases/{case_id}/people")))[0]
    assert counsellor.post(f"{base}/{first}/questions",
                           {"text": "What would rest look like?"}).status_code == 302
    question_id = re.findall(rf'id="q-({UUID.pattern})"',
                             text_of(counsellor.get(f"{base}/{first}")))[0]
    client = join_as_client(app, counsellor, case_id, client_login)
    shared = share_reflection(client, helped="Walking", week_rating="6",
                              **{f"answer_{question_id}": "Sleeping in"})
    draft = start_reflection(client)
    # A second case with a pending invitation, and a closed third one.
    waiting = new_case(counsellor, f"{name} Two")
    invitation_link(counsellor, waiting)
    closed = new_case(counsellor, f"{name} Three")
    assert counsellor.post(f"/cases/{closed}/close").status_code == 302
    return {"case_id": [case_id, waiting, closed], "session_id": [first, second],
            "person_id": [person_id], "question_id": [question_id],
            "reflection_id": [shared, draft], "invitation_id": [], "id": []}, client


def owned_rows(app: Flask, user_ids: set[str]) -> dict[str, list[str]]:
    """Every row tied to these users or to their cases, byte for byte (sealed content too).
    Only web_sessions.last_seen is left out: reading a page may touch it."""
    tables = Base.metadata.tables
    cases = tables["cases"]
    state: dict[str, list[str]] = {}
    with engine_for(app).connect() as conn:
        case_ids = set(conn.scalars(select(cases.c.id).where(
            or_(cases.c.counsellor_id.in_(user_ids), cases.c.client_id.in_(user_ids)))))
        keys = user_ids | case_ids
        for table in Base.metadata.sorted_tables:
            ties = [c for c in table.columns if c.name in OWNER_COLUMNS
                    or (table.name in ("users", "cases") and c.name == "id")]
            if not ties:
                continue
            columns = [c for c in table.columns
                       if not (table.name == "web_sessions" and c.name == "last_seen")]
            rows = conn.execute(select(*columns).where(or_(*(c.in_(keys) for c in ties))))
            state[table.name] = sorted(repr(tuple(row)) for row in rows)
    return state


def everyone(app: Flask) -> dict[str, list[str]]:
    """Who has an account and the practice itself: no fuzzed request may change either."""
    tables = Base.metadata.tables
    with engine_for(app).connect() as conn:
        return {"users": sorted(conn.scalars(select(tables["users"].c.id))),
                "practice": sorted(repr(tuple(r)) for r in
                                   conn.execute(select(tables["practice"])))}


def changes(before: dict[str, list[str]], after: dict[str, list[str]]
            ) -> dict[str, tuple[int, int]]:
    """The tables whose rows differ, with how many rows each had before and after."""
    return {name: (len(before[name]), len(after.get(name, [])))
            for name in before if before[name] != after.get(name)}


def test_fuzzing_every_route_as_every_role(app: Flask) -> None:
    started = time.perf_counter()
    ada = Browser(app.test_client())
    set_up_practice(app, ada)
    bea = invite_and_join(app, ada, "bea")
    pools_a, client_a = populate(app, ada, "robin", "Robin Example")
    pools_b, client_b = populate(app, bea, "kit", "Kit Sample")
    page = text_of(ada.post("/practice/invitations"))
    pools_a["invitation_id"] = re.findall(rf"/practice/invitations/({UUID.pattern})/revoke",
                                          page)
    assert pools_a["invitation_id"]
    for pool in (pools_a, pools_b):
        pool["id"] = [i for ids in pool.values() for i in ids]
    if "auth.start_two_factor" in app.view_functions:
        # Two-step sign-in half set up, so that fuzzed codes reach the code check.
        for counsellor in (ada, bea):
            assert counsellor.post("/account/two-factor/start").status_code == 302
    anonymous = Browser(app.test_client())
    roles = {
        "anonymous": Role("anonymous", anonymous),
        "A": Role("counsellor A (admin)", ada, "ada", "A"),
        "A client": Role("client of A", client_a, "robin", "A"),
        "B": Role("counsellor B", bea, "bea", "B"),
        "B client": Role("client of B", client_b, "kit", "B"),
    }
    assert len(everyone(app)["users"]) == 4
    ids_of: dict[str, set[str]] = {}
    with engine_for(app).connect() as conn:
        users, cases = Base.metadata.tables["users"], Base.metadata.tables["cases"]
        for login, owner in (("ada", "A"), ("bea", "B")):
            counsellor_id = conn.scalar(select(users.c.id).where(users.c.login_name == login))
            clients = conn.scalars(select(cases.c.client_id).where(
                cases.c.counsellor_id == counsellor_id, cases.c.client_id.is_not(None)))
            ids_of[owner] = {counsellor_id, *clients}
    assert all(len(ids) == 2 for ids in ids_of.values())
    setup_seconds = time.perf_counter() - started

    fuzzer = Fuzzer(app, {"A": pools_a, "B": pools_b})
    accounts = everyone(app)
    # Phase 1: A's side and a stranger fuzz; B's side must not move a byte.
    b_before = owned_rows(app, ids_of["B"])
    assert b_before["reflection_versions"] and b_before["note_revisions"]
    fuzzer.run([roles["anonymous"], roles["A"], roles["A client"]], TARGET // 2, 1)
    b_changed = changes(b_before, owned_rows(app, ids_of["B"]))
    # Phase 2: B's side and a stranger fuzz; A's side must not move a byte.
    a_before = owned_rows(app, ids_of["A"])
    fuzzer.run([roles["anonymous"], roles["B"], roles["B client"]], TARGET - TARGET // 2, 2)
    a_changed = changes(a_before, owned_rows(app, ids_of["A"]))
    elapsed = time.perf_counter() - started

    histogram = ", ".join(f"{k}: {v}" for k, v in sorted(fuzzer.statuses.items(), key=str))
    print(f"\nfuzz: {fuzzer.sent} requests in {elapsed - setup_seconds:.1f} s "
          f"(+{setup_seconds:.1f} s set-up), {fuzzer.sign_ins} re-sign-ins, seed {SEED}")
    print(f"fuzz: statuses {histogram}")
    print(f"fuzz: answered 2xx/3xx on {len(fuzzer.reached)} of {len(fuzzer.endpoints)} "
          f"endpoints requested")
    assert not fuzzer.failures, f"requests that failed, by kind:\n{fuzzer.report()}"
    # (table: rows before, rows after)
    assert not b_changed, f"fuzzing as A, A's client and a stranger changed B's data: {b_changed}"
    assert not a_changed, f"fuzzing as B, B's client and a stranger changed A's data: {a_changed}"
    assert not changes(accounts, everyone(app)), "an account was made, lost or changed"
    assert fuzzer.sent >= TARGET
    if TARGET >= 2000:
        every = {r.endpoint for r in fuzzer.rules}
        assert set(fuzzer.endpoints) == every, every - set(fuzzer.endpoints)
    # Still working afterwards: everyone can sign in and see their own page.
    for role in roles.values():
        role.ensure_signed_in(app)
    assert ada.get("/").status_code == 200 and bea.get("/").status_code == 200
    assert client_a.get("/portal/").status_code == 200
    assert client_b.get("/portal/").status_code == 200
