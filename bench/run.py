"""The benchmark suite (issue 6, section 3): `.venv/bin/python bench/run.py [--quick]`.

Builds its own data set through the services in a temporary instance (SQLite by default,
`--database-url` for PostgreSQL), measures every scenario in this process against a bare
route, prints a table and, as its last line, `bench: name=value ...`. Exits 1 if any target
is missed or any scenario could not run. See bench/README.md.
"""

from __future__ import annotations

import os
import sys

# Run as a script, Python puts bench/ first on the path, where bench/http.py would stand in
# for the standard library's http package: the repository root goes there instead.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    sys.path[0] = ROOT

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402

from bench import dataset as data  # noqa: E402
from bench import scenarios  # noqa: E402
from bench.scenarios import Result  # noqa: E402


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _guarded(names: list[str], fn: Callable[[], list[Result]]) -> list[Result]:
    """A scenario that crashes fails its targets (with the reason) instead of the whole run."""
    started = time.perf_counter()
    try:
        results = fn()
    except Exception as exc:  # noqa: BLE001 - reported in the table, and the run fails
        traceback.print_exc(file=sys.stderr)
        results = [Result(name, None, False, f"error: {type(exc).__name__}: {exc}"[:160])
                   for name in names]
    _log(f"{', '.join(names)}: {time.perf_counter() - started:.1f} s")
    return results


def run(spec: data.Spec, reps: scenarios.Repetitions, database_url: str | None = None,
        reset: bool = False, workdir: str | None = None) -> list[Result]:
    """Build the data set, measure every scenario, return the results (the table's rows)."""
    started = time.perf_counter()
    main_instance = os.path.join(workdir, "main")
    app = data.prepare(main_instance, database_url, reset)
    scenarios.register_bare_route(app)  # before the app's first request
    ds = data.build(app, spec)
    _log(f"data set: {ds.cases} cases, {ds.notes} notes and {ds.reflections} shared "
         f"reflections ({ds.big_notes + ds.big_reflections} of them in the big case) "
         f"in {ds.build_seconds:.1f} s")
    bench = scenarios.Bench(app, ds, reps)
    results: list[Result] = []
    # Statements, and memory in fresh processes, one at a time.
    results += _guarded(["queries_dashboard_1", "queries_dashboard_300"],
                        lambda: scenarios.queries(bench))
    results += _guarded(["rss_mb_worker"], lambda: scenarios.rss_worker(bench))
    results += _guarded(["rss_mb_export_15k"], lambda: scenarios.rss_export(bench))
    # Then the timings, with nothing else running.
    results += _guarded(["bare_us", "note_save", "dashboard_300", "timeline_200"],
                        lambda: scenarios.page_ratios(bench))
    results += _guarded(["crypto_pct_pages"], lambda: scenarios.crypto_share(bench))
    results += _guarded(["search_15k_ms"], lambda: scenarios.search(bench))
    results += _guarded(["export_200_ms", "export_pdf_ms"], lambda: scenarios.export(bench))
    results += _guarded(["login_ms", "kdf_ms"], lambda: scenarios.login(bench))
    _log(f"finished in {time.perf_counter() - started:.1f} s")
    from journal.db import engine_for

    engine_for(app).dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the same scenarios and data set, fewer repetitions")
    parser.add_argument("--database-url",
                        help="a PostgreSQL database to use instead of a temporary SQLite file "
                             "(it must be empty, or see --reset-database)")
    parser.add_argument("--reset-database", action="store_true",
                        help="drop and recreate the public schema of --database-url first")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary instance folder (its path is printed)")
    args = parser.parse_args(argv)
    reps = scenarios.Repetitions.quick() if args.quick else scenarios.Repetitions()
    workdir = tempfile.mkdtemp(prefix="journal-bench-")
    try:
        results = run(data.Spec(), reps, args.database_url, args.reset_database, workdir)
    finally:
        if args.keep:
            _log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(scenarios.table(results))
    print(scenarios.last_line(results))
    return 0 if scenarios.all_ok(results) else 1


if __name__ == "__main__":
    sys.exit(main())
