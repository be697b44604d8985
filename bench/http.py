"""HTTP load (issue 6, section 4): gunicorn with this repository's gunicorn.conf.py, on
loopback, driven by wrk; signed-in pages and reflection submits against the bare route.

    .venv/bin/python bench/http.py                       # SQLite in a temporary instance
    .venv/bin/python bench/http.py --database-url postgresql+psycopg://USER@127.0.0.1/DB \\
        --reset-database                                 # PostgreSQL (an empty or scratch DB)

Workers and threads come from JOURNAL_WORKERS / JOURNAL_THREADS as in production (gunicorn
defaults 2 and 4). Needs gunicorn in the venv (`pip install -e ".[server]"`) and wrk
(`apt-get install wrk`). Every run is bounded in time (--duration) and in requests
(--max-requests); only the expected status counts as success. See bench/README.md.
"""

from __future__ import annotations

import os
import sys

# As a script, bench/ would come first on the path and this file would stand in for the
# standard library's http package: the repository root goes there instead.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    sys.path[0] = ROOT

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import quote  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

LUA = os.path.join(ROOT, "bench", "load.lua")
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
REFLECTION_TEXT = ("stood_out=" + quote("A calmer week, mostly. 这周睡得好一点。" * 6)
                   + "&helped=" + quote("Walking to work, and the breathing before meetings. " * 4)
                   + "&hard=" + quote("Sunday evening, as usual. " * 5))


def _log(message: str) -> None:
    print(f"http: {message}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """One wrk run, as load.lua reports it."""

    name: str
    ok: int
    bad: int
    socket_errors: int
    timeouts: int
    seconds: float
    p50_ms: float
    p99_ms: float
    news: int = 0
    shares: int = 0
    statuses: dict[str, int] | None = None  # unexpected status -> count

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.bad + self.socket_errors + self.timeouts


# --- preparing the instance -------------------------------------------------------------------


def prepare(workdir: str, database_url: str | None, reset: bool) -> dict[str, Any]:
    """A fresh instance with a counsellor (60 cases) and clients, and their sign-in cookies."""
    from bench import dataset as data
    from journal.auth import service as auth
    from journal.auth import web_sessions
    from journal.db import engine_for, session_for
    from journal.models import Case, User

    instance = os.path.join(workdir, "instance")
    app = data.prepare(instance, database_url, reset)
    ds = data.build(app, data.Spec(cases=60, entries=1200, timeline_sessions=20,
                                   client_cases=3))
    cookies = {}
    with app.test_request_context(), session_for(app) as db:
        kdf = data.fast_kdf(app)
        # The submitting client is another case's, so the home page measured stays the same.
        submitter = db.scalar(select(User.id).join(Case, Case.client_id == User.id)
                              .where(Case.id != ds.timeline_case_id).limit(1))
        submit_login = None
        for index in range(3):
            login = f"bench-client-{index:03d}"
            unlocked = auth.authenticate(db, login, data.PASSPHRASE, kdf)
            if unlocked.user.id == submitter:
                submit_login = login
        for name, login in (("counsellor", data.COUNSELLOR_LOGIN), ("client", ds.client_login),
                            ("submitter", submit_login)):
            unlocked = auth.authenticate(db, login, data.PASSPHRASE, kdf)
            cookies[name] = web_sessions.start(db, unlocked.user, unlocked.private_key)
        db.commit()
    engine_for(app).dispose()
    return {"instance": instance, "database_url": app.config["DATABASE_URL"],
            "cookies": cookies, "submitter_id": submitter, "cases": ds.cases}


def count_reflections(database_url: str, client_id: str) -> tuple[int, int]:
    """(all, shared) reflections of one client, read straight from the database."""
    from journal.db import make_engine
    from journal.models import Reflection

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(Reflection)
                                .where(Reflection.client_id == client_id))
            shared = conn.scalar(select(func.count()).select_from(Reflection)
                                 .where(Reflection.client_id == client_id,
                                        Reflection.status == "shared"))
    finally:
        engine.dispose()
    return int(total or 0), int(shared or 0)


# --- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(prepared: dict[str, Any], port: int, workdir: str) -> subprocess.Popen:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(gunicorn):
        raise SystemExit("http: gunicorn is not installed in this venv: "
                         f"{os.path.dirname(sys.executable)}/pip install gunicorn")
    env = dict(os.environ)
    env.update({
        "JOURNAL_INSTANCE_PATH": prepared["instance"],
        "JOURNAL_DATABASE_URL": prepared["database_url"],
        "JOURNAL_BIND": f"127.0.0.1:{port}",
        # The documented local mode for load tools on plain http (honoured on loopback only).
        "JOURNAL_COOKIE_SECURE": "0",
        "JOURNAL_ACCESS_LOG": os.path.join(workdir, "access.log"),
    })
    log = open(os.path.join(workdir, "gunicorn.log"), "w")  # noqa: SIM115 - closed in stop
    process = subprocess.Popen(  # noqa: S603 - the venv's gunicorn with our config
        [gunicorn, "-c", os.path.join(ROOT, "gunicorn.conf.py"), "bench.bench_app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            status, _headers, _body = get(port, "/health")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(process)
    with open(os.path.join(workdir, "gunicorn.log")) as fh:
        raise SystemExit(f"http: gunicorn did not start:\n{fh.read()[-3000:]}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()  # type: ignore[attr-defined]


def get(port: int, path: str, cookie: str = "") -> tuple[int, Any, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def csrf_pair(port: int, cookie: str, path: str = "/portal/") -> tuple[str, str]:
    """A CSRF token and the Flask cookie it belongs to, from a signed-in page."""
    status, headers, body = get(port, path, cookie)
    match = _CSRF.search(body)
    flask_cookie = next((c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []
                         if not c.startswith("journal=")), None)
    if status != 200 or not match or not flask_cookie:
        raise SystemExit(f"http: no CSRF token on {path} (status {status})")
    return match.group(1), flask_cookie


def as_a_browser(port: int, cookie: str, path: str) -> str:
    """The Cookie header a browser sends once signed in: the sign-in cookie and the Flask
    cookie (CSRF secret) the first page set. Without the second, every page would mint a
    new CSRF secret and a Set-Cookie, which no browser session does after its first page."""
    _token, flask_cookie = csrf_pair(port, cookie, path)
    return f"{cookie}; {flask_cookie}"


# --- wrk --------------------------------------------------------------------------------------


def wrk(name: str, port: int, mode: str, path: str, cookie: str, token: str, args: Any
        ) -> Run:
    connections = args.connections
    per_thread = max(1, args.max_requests // connections)
    command = ["wrk", "-t", str(connections), "-c", str(connections), "-d",
               f"{args.duration}s", "--timeout", "5s", "-s", LUA, f"http://127.0.0.1:{port}",
               "--", mode, path, cookie, token, str(per_thread), REFLECTION_TEXT]
    done = subprocess.run(command, capture_output=True, text=True,  # noqa: S603
                          timeout=args.duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"http: wrk failed: {done.stderr or done.stdout}")
    out = json.loads(line)
    if out["capped"]:
        # wrk divides by the whole --duration even when a thread stopped early at its share
        # of --max-requests: the rate would be understated (a capped bare route once
        # flattered every ratio here).
        raise SystemExit(f"http: the {name} run reached --max-requests "
                         f"({args.max_requests}) before --duration ended, so its rate would be "
                         "understated; raise --max-requests")
    return Run(name, out["ok"], out["bad"], out["socket_errors"], out["timeouts"],
               out["duration_us"] / 1e6, out["p50_us"] / 1000, out["p99_us"] / 1000,
               out["news"], out["shares"], out["statuses"])


def measure(prepared: dict[str, Any], args: Any, workdir: str) -> dict[str, Any]:
    """Alternate bare, dashboard, client home and submits for --rounds rounds."""
    port = free_port()
    server = start_gunicorn(prepared, port, workdir)
    try:
        cookies = {k: f"journal={v}" for k, v in prepared["cookies"].items()}
        for name, path in (("counsellor", "/"), ("client", "/portal/")):
            status, _h, _b = get(port, path, cookies[name])
            if status != 200:
                raise SystemExit(f"http: {path} answered {status} for the {name}")
            cookies[name] = as_a_browser(port, cookies[name], path)
        token, flask_cookie = csrf_pair(port, cookies["submitter"])
        submit_cookie = f"{cookies['submitter']}; {flask_cookie}"
        before = count_reflections(prepared["database_url"], prepared["submitter_id"])
        runs: dict[str, list[Run]] = {"bare": [], "signed_in_bare": [], "dashboard": [],
                                      "client_home": [], "submit": []}
        # A short warm-up: every worker imports its templates and opens connections.
        wrk("warm-up", port, "get", "/", cookies["counsellor"], "", _short(args))
        for round_no in range(args.rounds):
            for name, mode, path, cookie in (
                    ("bare", "get", "/_bench/bare", ""),
                    # The bare route with the counsellor's cookies: what being signed in
                    # costs (session row, key unwrap) before a page does anything.
                    ("signed_in_bare", "get", "/_bench/bare", cookies["counsellor"]),
                    ("bare", "get", "/_bench/bare", ""),
                    ("dashboard", "get", "/", cookies["counsellor"]),
                    ("bare", "get", "/_bench/bare", ""),
                    ("client_home", "get", "/portal/", cookies["client"]),
                    ("bare", "get", "/_bench/bare", ""),
                    ("submit", "submit", "/portal/reflections/new", submit_cookie)):
                run = wrk(name, port, mode, path, cookie, token, args)
                runs[name].append(run)
                _log(f"round {round_no + 1} {name}: {run.rate:.0f} req/s, p50 "
                     f"{run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, errors {run.errors}"
                     + (f" (statuses {run.statuses})" if run.statuses else ""))
        after = count_reflections(prepared["database_url"], prepared["submitter_id"])
    finally:
        stop_gunicorn(server)
        _server_errors(workdir)
    news = sum(r.news for r in runs["submit"])
    shares = sum(r.shares for r in runs["submit"])
    return {"runs": runs, "rows_new": after[0] - before[0], "rows_shared": after[1] - before[1],
            "news": news, "shares": shares}


def _server_errors(workdir: str) -> None:
    """Show what the server logged about failed requests (exception types only)."""
    with open(os.path.join(workdir, "gunicorn.log"), errors="replace") as fh:
        lines = [line.rstrip() for line in fh if "ERROR" in line or "Error" in line]
    for line in lines[-20:]:
        _log(f"server: {line}")


def _short(args: Any) -> Any:
    return argparse.Namespace(**{**vars(args), "duration": 2})


# --- report -----------------------------------------------------------------------------------


def report(label: str, measured: dict[str, Any]) -> tuple[list[str], list[str], bool]:
    """Table rows, name=value parts and whether every target was met."""
    runs = measured["runs"]
    bare = statistics.median(r.rate for r in runs["bare"])
    rows, parts, ok = [], [f"{label}_bare_rps={bare:.0f}"], True
    rows.append(f"{label:<6} bare         {bare:8.0f} req/s  p99 "
                f"{statistics.median(r.p99_ms for r in runs['bare']):6.1f} ms  errors "
                f"{sum(r.errors for r in runs['bare'])}")
    signed_in = statistics.median(r.rate for r in runs["signed_in_bare"])
    signed_in_ratio = signed_in / bare if bare else 0.0
    rows.append(f"{label:<6} signed-in    {signed_in:8.0f} req/s  {signed_in_ratio:.2f}x bare "
                f"(no target: the bare route, signed in)  errors "
                f"{sum(r.errors for r in runs['signed_in_bare'])}")
    parts.append(f"{label}_signed_in_bare_ratio={signed_in_ratio:.2f}")
    for name in ("dashboard", "client_home"):
        rate = statistics.median(r.rate for r in runs[name])
        p50 = statistics.median(r.p50_ms for r in runs[name])
        p99 = statistics.median(r.p99_ms for r in runs[name])
        errors = sum(r.errors for r in runs[name])
        ratio = rate / bare if bare else 0.0
        good = ratio >= 0.3 and p99 <= 100 and errors == 0
        ok &= good
        rows.append(f"{label:<6} {name:<12} {rate:8.0f} req/s  {ratio:.2f}x bare (>= 0.3)  "
                    f"p50 {p50:.1f} ms  p99 {p99:.1f} ms (<= 100)  errors {errors}  "
                    f"{'ok' if good else 'MISSED'}")
        parts += [f"{label}_{name}_ratio={ratio:.2f}", f"{label}_{name}_p99_ms={p99:.1f}"]
    submit = runs["submit"]
    rate = statistics.median(r.rate for r in submit)
    p50 = statistics.median(r.p50_ms for r in submit)
    p99 = statistics.median(r.p99_ms for r in submit)
    errors = sum(r.errors for r in submit)
    lost_new = max(0, measured["news"] - measured["rows_new"])
    lost_shared = max(0, measured["shares"] - measured["rows_shared"])
    good = rate >= 250 and errors == 0 and lost_new == 0 and lost_shared == 0
    ok &= good
    rows.append(f"{label:<6} submit       {rate:8.0f} req/s (>= 250)  p50 {p50:.1f} ms  "
                f"p99 {p99:.1f} ms  errors {errors}  rows: {measured['rows_new']} new / "
                f"{measured['news']} answered, {measured['rows_shared']} shared / "
                f"{measured['shares']} answered, lost {lost_new + lost_shared}  "
                f"{'ok' if good else 'MISSED'}")
    parts += [f"{label}_submit_rps={rate:.0f}", f"{label}_submit_p99_ms={p99:.1f}",
              f"{label}_submit_errors={errors}", f"{label}_lost_rows={lost_new + lost_shared}"]
    return rows, parts, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL instead of a temporary SQLite file")
    parser.add_argument("--reset-database", action="store_true",
                        help="drop and recreate the public schema of --database-url first")
    parser.add_argument("--duration", type=int, default=8, help="seconds per run (8)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--connections", type=int, default=8,
                        help="wrk connections, one thread each (8)")
    parser.add_argument("--max-requests", type=int, default=200000,
                        help="upper bound of requests per run (200000); a run that reaches "
                             "it stops the benchmark, as its rate would be understated")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("http: wrk is not installed (apt-get install wrk)")
    workdir = tempfile.mkdtemp(prefix="journal-http-")
    label = "pg" if args.database_url else "sqlite"
    try:
        _log(f"preparing a {label} instance in {workdir}")
        prepared = prepare(workdir, args.database_url, args.reset_database)
        _log(f"gunicorn: JOURNAL_WORKERS={os.environ.get('JOURNAL_WORKERS', '2')} "
             f"JOURNAL_THREADS={os.environ.get('JOURNAL_THREADS', '4')}; wrk: "
             f"{args.connections} connections, {args.duration} s per run")
        measured = measure(prepared, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows, parts, ok = report(label, measured)
    print("\n".join(rows))
    print("http: " + " ".join(parts))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
