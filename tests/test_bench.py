"""bench/run.py's scenarios at a tiny scale, so the benchmark keeps working as the app changes.

Timings are not checked here (they belong to bench/run.py on a full data set); the output is:
every name present, the last line's format, and every scenario that can run having run.
"""

from __future__ import annotations

import re

from bench import dataset as data
from bench import run as bench_run
from bench import scenarios
from journal import security


def test_every_scenario_runs_and_the_last_line_names_them_all(tmp_path, monkeypatch):
    # The bench adds its bare route to the allow-list of this process; undo it afterwards.
    monkeypatch.setattr(security, "PUBLIC_ENDPOINTS", security.PUBLIC_ENDPOINTS)
    spec = data.Spec(cases=3, entries=30, timeline_sessions=5, client_cases=2)
    results = bench_run.run(spec, scenarios.Repetitions.tiny(), workdir=str(tmp_path))

    names = [name for name, _target, _unit in scenarios.NAMES]
    by_name = {r.name: r for r in results}
    assert sorted(by_name) == sorted(names)
    for result in results:
        if "not available yet" not in result.note:
            assert result.value is not None, result  # it ran (a crash would say "error: …")
    assert by_name["queries_dashboard_1"].value == by_name["queries_dashboard_300"].value
    # Pages open names and notes: a clock that saw no crypto would have missed the module.
    assert 0 < by_name["crypto_pct_pages"].value < 100

    value = r"(?:-?\d+(?:\.\d+)?|NA)"
    line = scenarios.last_line(results)
    assert re.fullmatch("bench: " + " ".join(f"{n}={value}" for n in names), line), line
    fields = dict(part.split("=") for part in line.removeprefix("bench: ").split())
    for name, _target, unit in scenarios.NAMES:
        if fields[name] == "NA":
            continue
        decimals = {"ratio": 2, "ms": 1, "mb": 1, "count": 0, "us": 0, "pct": 0}[unit]
        assert len(fields[name].partition(".")[2]) == decimals, (name, fields[name])

    table = scenarios.table(results)
    assert table.splitlines()[0].split()[:4] == ["name", "value", "target", "ok"]
    assert all(re.search(rf"^{n}\s", table, re.MULTILINE) for n in names)
    assert scenarios.all_ok(results) == all(r.ok for r in results)


def test_the_crypto_clock_times_outermost_calls_and_puts_everything_back():
    from bench import crypto_time
    from journal import crypto
    from journal.crypto import envelope

    original = crypto.seal_field
    key = crypto.new_key()
    ref = crypto.FieldRef("notes", "row-1", "body", "case-1")
    with crypto_time.timing_crypto() as clock:
        assert crypto.seal_field is not original
        blob = crypto.seal_field(key, "text", ref, 1)
        crypto.open_field(key, blob, ref)
    assert clock.calls == 2  # the helpers they call are inside those two
    assert clock.ns > 0
    assert crypto.seal_field is original
    assert envelope.seal_field is original
    assert crypto.open_field(key, blob, ref) == "text"
