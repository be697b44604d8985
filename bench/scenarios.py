"""The benchmark's scenarios: each measured in this process with Flask's test client,
alternately with a bare route that passes through the same request hooks.

Every scenario returns Results; a scenario that cannot run (a feature not built yet) returns
a Result without a value, which fails its target: the benchmark never passes by omission.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from journal import crypto, security
from journal.auth import service as auth
from journal.auth import web_sessions
from journal.cases import notes
from journal.db import engine_for, session_for
from journal.keyring import Keyring
from journal.models import Case, Note, User

from . import crypto_time
from . import dataset as data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BARE_ENDPOINT = "bench_bare"
BARE_URL = "/_bench/bare"
SEARCH_TERM = "insomnia"  # in many notes (text.CONTENT), so search has hits to build
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# (name, target text, unit) in the order of the table and of the last line.
NAMES: tuple[tuple[str, str, str], ...] = (
    ("bare_us", "-", "us"),
    ("crypto_pct_pages", "-", "pct"),
    ("note_save", "<= 4", "ratio"),
    ("dashboard_300", "<= 12", "ratio"),
    ("timeline_200", "<= 12", "ratio"),
    ("search_15k_ms", "<= 300", "ms"),
    ("export_200_ms", "<= 500", "ms"),
    ("export_pdf_ms", "<= 1500", "ms"),
    ("login_ms", "<= 1.2 x kdf_ms + 15", "ms"),
    ("kdf_ms", "-", "ms"),
    ("queries_dashboard_1", "= queries_dashboard_300, <= 5", "count"),
    ("queries_dashboard_300", "= queries_dashboard_1, <= 5", "count"),
    ("rss_mb_worker", "<= 120", "mb"),
    ("rss_mb_export_15k", "<= 300", "mb"),
)


@dataclass
class Result:
    name: str
    value: float | None
    ok: bool
    note: str = ""

    def formatted(self) -> str:
        """The value as the last line prints it (ratios 2 decimals, times 1 decimal)."""
        if self.value is None:
            return "NA"
        unit = dict((n, u) for n, _t, u in NAMES)[self.name]
        if unit == "ratio":
            return f"{self.value:.2f}"
        if unit == "count":
            return str(int(self.value))
        if unit in ("us", "pct"):
            return f"{self.value:.0f}"
        return f"{self.value:.1f}"


@dataclass
class Repetitions:
    """How many times each kind of scenario runs (after its warm-up runs)."""

    fast: int = 200  # page requests
    search: int = 15
    export: int = 9
    pdf: int = 5
    login: int = 15
    warmup: int = 5

    @classmethod
    def quick(cls) -> Repetitions:
        return cls(fast=30, search=5, export=3, pdf=3, login=5, warmup=3)

    @classmethod
    def tiny(cls) -> Repetitions:
        return cls(fast=2, search=1, export=1, pdf=1, login=1, warmup=1)


@dataclass
class Bench:
    """The app under test, its data set and signed-in test clients."""

    app: Flask
    dataset: data.Dataset
    reps: Repetitions
    counsellor: FlaskClient = field(init=False)
    anonymous: FlaskClient = field(init=False)
    private_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.anonymous = self.app.test_client()
        self.counsellor, self.private_key = signed_in_client(self.app, data.COUNSELLOR_LOGIN)


def register_bare_route(app: Flask) -> None:
    """The bare route: anonymous, a short text, through every request hook of the app.

    Only this benchmark's app gets it, and only its process adds it to the allow-list of
    public endpoints (security.py reads the module-level set on each request).
    """
    def bare() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    app.add_url_rule(BARE_URL, endpoint=BARE_ENDPOINT, view_func=bare)
    security.PUBLIC_ENDPOINTS = security.PUBLIC_ENDPOINTS | {BARE_ENDPOINT}


def signed_in_client(app: Flask, login: str) -> tuple[FlaskClient, bytes]:
    """A test client holding a sign-in cookie for a (cheap-KDF) user of the data set.

    The session row is started the way the sign-in pages start it; the two-step page is
    skipped because the bench cannot type a code (each TOTP code works once).
    """
    with app.test_request_context(), session_for(app) as db:
        unlocked = auth.authenticate(db, login, data.PASSPHRASE, data.fast_kdf(app))
        cookie = web_sessions.start(db, unlocked.user, unlocked.private_key)
        db.commit()
    client = app.test_client()
    client.set_cookie("journal", cookie)
    return client, unlocked.private_key


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = _CSRF.search(page)
    if not match:
        raise RuntimeError(f"no CSRF token on {url}")
    return match.group(1)


def _timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1000.0  # microseconds


def alternate(bare: Callable[[], None], scenario: Callable[[], None], reps: int, warmup: int,
              after: Callable[[], None] | None = None) -> tuple[list[float], list[float]]:
    """bare, scenario, bare, scenario ... (after warm-up); samples in microseconds.
    `after` runs untimed after each scenario run."""
    bare_samples, samples = [], []
    for i in range(warmup + reps):
        bare_time = _timed(bare)
        time_taken = _timed(scenario)
        if after is not None:
            after()
        if i >= warmup:
            bare_samples.append(bare_time)
            samples.append(time_taken)
    return bare_samples, samples


def _expect(resp: Any, status: int, what: str) -> None:
    if resp.status_code != status:
        raise RuntimeError(f"{what}: expected {status}, got {resp.status_code}")


def _bare(bench: Bench) -> Callable[[], None]:
    def run() -> None:
        resp = bench.anonymous.get(BARE_URL)
        _expect(resp, 200, "bare route")
    return run


def _page(bench: Bench, url: str) -> Callable[[], None]:
    def run() -> None:
        _expect(bench.counsellor.get(url), 200, url)
    return run


def _read_pages(bench: Bench) -> dict[str, str]:
    """The read pages measured (the ratios, and the crypto share): the dashboard's first page
    and the 200-session case's."""
    return {"dashboard": "/", "timeline": f"/cases/{bench.dataset.timeline_case_id}"}


# --- page ratios ------------------------------------------------------------------------------


def page_ratios(bench: Bench) -> list[Result]:
    """note_save, dashboard_300, timeline_200 against the bare route, and bare_us."""
    ds, reps = bench.dataset, bench.reps
    bare = _bare(bench)
    client = bench.counsellor
    note_url = f"/cases/{ds.timeline_case_id}/sessions/{ds.draft_session_id}/note"
    with session_for(bench.app) as db:
        note = db.scalar(select(Note).where(Note.session_id == ds.draft_session_id))
        template, version = note.template, note.edit_version
    token = csrf_token(client, note_url)
    flask_cookie = client.get_cookie(bench.app.config["SESSION_COOKIE_NAME"])
    body = {f"section_{key}": f"Saved again by the benchmark. {key} " * 25
            for key in notes.section_keys(template)}  # ~1 KB per section
    # The form is URL-encoded once, as the browser would have done it: encoding ~4 KB field by
    # field in the test client cost ~30 µs a request, the client's work rather than the app's.
    # Only the edit version changes between saves, and it goes last.
    encoded = urlencode({**body, "csrf_token": token, "action": "save"}).encode()
    state = {"version": version}

    def save() -> None:
        resp = client.post(note_url, data=b"%b&edit_version=%d" % (encoded, state["version"]),
                           content_type="application/x-www-form-urlencoded")
        _expect(resp, 302, "note save")
        state["version"] += 1

    def forget_flash() -> None:
        # A browser shows "Draft saved." on the page it is redirected to, which empties the
        # flash list; the bench does not follow the redirect, so it puts the cookie back
        # instead (untimed), or every save would carry all earlier messages.
        client.set_cookie(flask_cookie.key, flask_cookie.value)

    pages = _read_pages(bench)
    results = []
    bare_all: list[float] = []
    for name, fn, after in (("note_save", save, forget_flash),
                            ("dashboard_300", _page(bench, pages["dashboard"]), None),
                            ("timeline_200", _page(bench, pages["timeline"]), None)):
        bare_samples, samples = alternate(bare, fn, reps.fast, reps.warmup, after)
        bare_all += bare_samples
        ratio = statistics.median(samples) / statistics.median(bare_samples)
        limit = 4 if name == "note_save" else 12
        results.append(Result(name, ratio, ratio <= limit,
                              f"median {statistics.median(samples) / 1000:.2f} ms"))
    results.insert(0, Result("bare_us", statistics.median(bare_all), True,
                             f"{len(bare_all)} samples"))
    return results


def crypto_share(bench: Bench) -> list[Result]:
    """crypto_pct_pages: the share of a page's time spent in journal.crypto (the larger of
    the dashboard's and the timeline's), with no target: it shows what encryption costs."""
    shares = {}
    for name, url in _read_pages(bench).items():
        page = _page(bench, url)
        for _ in range(bench.reps.warmup):
            page()
        with crypto_time.timing_crypto() as clock:
            started = time.perf_counter_ns()
            for _ in range(bench.reps.fast):
                page()
            total = time.perf_counter_ns() - started
        shares[name] = 100 * clock.ns / total
    return [Result("crypto_pct_pages", max(shares.values()), True,
                   ", ".join(f"{name} {share:.1f} %" for name, share in shares.items()))]


# --- search -----------------------------------------------------------------------------------


def search(bench: Bench) -> list[Result]:
    """search_15k_ms: through POST /search when it exists, else the service function."""
    app, reps = bench.app, bench.reps
    if "cases.search" in app.view_functions:
        client = bench.counsellor
        token = csrf_token(client, "/search")

        def run() -> None:
            resp = client.post("/search", data={"query": SEARCH_TERM, "csrf_token": token})
            _expect(resp, 200, "search")
        how = "POST /search"
    else:
        try:
            from journal.cases.search import search_casework
        except ImportError:
            return [Result("search_15k_ms", None, False,
                           "not available yet: journal.cases.search / POST /search")]

        def run() -> None:
            with app.test_request_context(), session_for(app) as db:
                keyring = _keyring(bench, db)
                search_casework(db, keyring, keyring.user, SEARCH_TERM, limit=50)
        how = "search_casework()"
    for _ in range(min(reps.warmup, 2)):
        run()
    samples = [_timed(run) / 1000 for _ in range(reps.search)]
    value = statistics.median(samples)
    return [Result("search_15k_ms", value, value <= 300,
                   f"{how}, {bench.dataset.notes + bench.dataset.reflections} entries")]


def _keyring(bench: Bench, db: Any) -> Keyring:
    return Keyring(db, db.get(User, bench.dataset.counsellor_id), bench.private_key)


# --- export -----------------------------------------------------------------------------------


def export_module() -> Any:
    """journal.export.service with anonymised_document(db, keyring, case, fmt), or None."""
    try:
        from journal.export import service as export_service
    except ImportError:
        return None
    return export_service if hasattr(export_service, "anonymised_document") else None


def export(bench: Bench) -> list[Result]:
    """export_200_ms (Markdown) and export_pdf_ms of the 200-session case."""
    module = export_module()
    if module is None:
        missing = "not available yet: journal.export.service.anonymised_document"
        return [Result("export_200_ms", None, False, missing),
                Result("export_pdf_ms", None, False, missing)]
    app, reps = bench.app, bench.reps
    results = []
    for name, fmt, n, limit in (("export_200_ms", "md", reps.export, 500),
                                ("export_pdf_ms", "pdf", reps.pdf, 1500)):
        sizes: list[int] = []

        def run(fmt: str = fmt, sizes: list[int] = sizes) -> None:
            with app.test_request_context(), session_for(app) as db:
                case = db.get(Case, bench.dataset.timeline_case_id)
                document = module.anonymised_document(db, _keyring(bench, db), case, fmt)
                db.rollback()
            if not isinstance(document, bytes | bytearray) or not document:
                raise RuntimeError(f"anonymised_document(..., {fmt!r}) returned no bytes")
            sizes.append(len(document))

        cold = _timed(run) / 1000  # the first call may load dictionaries and fonts
        samples = [_timed(run) / 1000 for _ in range(n)]
        value = statistics.median(samples)
        results.append(Result(name, value, value <= limit,
                              f"{sizes[-1] / 1024:.0f} KiB, first call {cold:.0f} ms"))
    return results


# --- sign-in ----------------------------------------------------------------------------------


def login(bench: Bench) -> list[Result]:
    """login_ms (POST /login, configured Argon2id) alternately with kdf_ms (one derivation)."""
    app, reps = bench.app, bench.reps
    cfg = app.config
    params = crypto.KdfParams(cfg["KDF_MEMORY_KIB"], cfg["KDF_ITERATIONS"], cfg["KDF_LANES"])
    salt = crypto.new_salt()

    def sign_in() -> float:
        client = app.test_client()
        token = csrf_token(client, "/login")
        start = time.perf_counter_ns()
        resp = client.post("/login", data={"login_name": data.LOGIN_LOGIN,
                                           "passphrase": data.PASSPHRASE, "csrf_token": token})
        elapsed = (time.perf_counter_ns() - start) / 1e6
        _expect(resp, 302, "sign-in")
        return elapsed

    def kdf() -> float:
        return _timed(lambda: crypto.derive_passphrase_keys(data.PASSPHRASE, salt, params)) / 1000

    sign_in()
    kdf()
    logins, kdfs = [], []
    for _ in range(reps.login):
        kdfs.append(kdf())
        logins.append(sign_in())
    login_ms, kdf_ms = statistics.median(logins), statistics.median(kdfs)
    return [Result("login_ms", login_ms, login_ms <= 1.2 * kdf_ms + 15,
                   f"limit {1.2 * kdf_ms + 15:.1f} ms"),
            Result("kdf_ms", kdf_ms, True,
                   f"m={params.memory_kib} KiB, t={params.iterations}, p={params.lanes}")]


# --- statements -------------------------------------------------------------------------------


@contextmanager
def counting(app: Flask):  # noqa: ANN201 - a context manager yielding the list
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = engine_for(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_for(app: Flask, client: FlaskClient, url: str) -> int:
    _expect(client.get(url), 200, url)  # warm: the first request may touch last_seen
    with counting(app) as statements:
        _expect(client.get(url), 200, url)
    return len(statements)


def queries(bench: Bench) -> list[Result]:
    """SQL statements of the dashboard with 1 case and with 300."""
    one, _key = signed_in_client(bench.app, data.ONE_CASE_LOGIN)
    small = statements_for(bench.app, one, "/")
    large = statements_for(bench.app, bench.counsellor, "/")
    ok = small == large and large <= 5
    return [Result("queries_dashboard_1", small, ok, "1 case"),
            Result("queries_dashboard_300", large, ok, f"{bench.dataset.cases} cases")]


# --- memory (fresh processes) -----------------------------------------------------------------


def start_probe(*args: str) -> subprocess.Popen[str]:
    """Start `python -m bench.probe ARGS` in a fresh process."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.probe", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def finish_probe(process: subprocess.Popen[str], timeout: float = 1800) -> dict[str, Any]:
    """Wait for a probe and return the JSON object it printed last."""
    stdout, stderr = process.communicate(timeout=timeout)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"bench.probe {process.args[3]} failed ({process.returncode}): "
                           f"{stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


def probe(*args: str) -> dict[str, Any]:
    """Run `python -m bench.probe ARGS` and return the JSON object it prints last."""
    return finish_probe(start_probe(*args))


def rss_worker(bench: Bench) -> list[Result]:
    """rss_mb_worker: a fresh process serves every GET page once, as counsellor and client."""
    out = probe("worker-rss", bench.dataset.instance_path)
    return [Result("rss_mb_worker", out["hwm_mb"], out["hwm_mb"] <= 120,
                   f"{out['pages']} pages, now {out['rss_mb']:.1f} MB"
                   + (f", failed: {', '.join(out['failed'])}" if out["failed"] else ""))]


def rss_export(bench: Bench) -> list[Result]:
    """rss_mb_export_15k: peak RSS of a fresh process exporting the big case (Markdown)."""
    if export_module() is None:
        return [Result("rss_mb_export_15k", None, False,
                       "not available yet: journal.export.service.anonymised_document")]
    out = probe("export-rss", bench.dataset.instance_path)
    ds = bench.dataset
    return [Result("rss_mb_export_15k", out["hwm_mb"], out["hwm_mb"] <= 300,
                   f"{ds.big_notes + ds.big_reflections} entries in one case, "
                   f"{out['seconds']:.1f} s, {out['bytes'] / 1e6:.1f} MB of Markdown")]


# --- the table and the last line --------------------------------------------------------------


def table(results: list[Result]) -> str:
    by_name = {r.name: r for r in results}
    rows = [("name", "value", "target", "ok", "")]
    for name, target, _unit in NAMES:
        r = by_name.get(name) or Result(name, None, False, "not measured")
        rows.append((name, r.formatted(), target, "ok" if r.ok else "MISSED", r.note))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i < 4 else cell
                               for i, cell in enumerate(row)).rstrip() for row in rows)


def last_line(results: list[Result]) -> str:
    by_name = {r.name: r for r in results}
    parts = []
    for name, _target, _unit in NAMES:
        r = by_name.get(name) or Result(name, None, False)
        parts.append(f"{name}={r.formatted()}")
    return "bench: " + " ".join(parts)


def all_ok(results: list[Result]) -> bool:
    by_name = {r.name: r for r in results}
    return all(name in by_name and by_name[name].ok for name, _t, _u in NAMES)
