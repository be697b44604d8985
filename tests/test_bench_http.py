"""bench/http.py's report: ratios against the bare route, targets, lost rows.

The load itself needs gunicorn and wrk and belongs to bench/http.py; the arithmetic that
decides "ok" or "MISSED" is checked here with made-up runs.
"""

from __future__ import annotations

from bench import http as bench_http


def _run(name: str, ok: int, p99_ms: float = 20.0, bad: int = 0, news: int = 0,
         shares: int = 0) -> bench_http.Run:
    return bench_http.Run(name, ok, bad, 0, 0, 10.0, 5.0, p99_ms, news, shares)


def _measured(dashboard_ok: int, submit_bad: int = 0, rows_shared: int = 1500) -> dict:
    runs = {
        "bare": [_run("bare", 30_000), _run("bare", 31_000), _run("bare", 29_000)],
        "signed_in_bare": [_run("signed_in_bare", 21_000)],
        "dashboard": [_run("dashboard", dashboard_ok)],
        "client_home": [_run("client_home", 12_000)],
        "submit": [_run("submit", 3_000, bad=submit_bad, news=1500, shares=1500)],
    }
    return {"runs": runs, "rows_new": 1500, "rows_shared": rows_shared, "news": 1500,
            "shares": 1500}


def test_pages_are_compared_with_the_median_bare_run():
    rows, parts, ok = bench_http.report("sqlite", _measured(dashboard_ok=9_000))

    assert ok
    assert "sqlite_bare_rps=3000" in parts
    assert "sqlite_dashboard_ratio=0.30" in parts
    assert "sqlite_client_home_ratio=0.40" in parts
    # Being signed in is reported for what it costs, with no target of its own.
    assert "sqlite_signed_in_bare_ratio=0.70" in parts
    assert any("signed-in" in row and "no target" in row for row in rows)


def test_a_slow_page_an_error_or_a_lost_row_misses():
    assert not bench_http.report("pg", _measured(dashboard_ok=8_900))[2]
    assert not bench_http.report("pg", _measured(dashboard_ok=9_000, submit_bad=1))[2]
    rows, parts, ok = bench_http.report("pg", _measured(dashboard_ok=9_000, rows_shared=1499))
    assert not ok
    assert "pg_lost_rows=1" in parts
