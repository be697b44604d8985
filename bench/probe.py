"""Work the benchmark runs in fresh processes, so memory high-water marks are their own:

    python -m bench.probe worker-rss INSTANCE
    python -m bench.probe export-rss INSTANCE

Each prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

# Endpoints the worker walk leaves out: exports (the worker is measured before any export),
# and the bench's own bare route.
_SKIP = ("export", "bench_bare")


def _status_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB, from /proc (ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def _url_for_rule(rule: Any, ids: dict[str, str]) -> str | None:
    if rule.endpoint == "static":
        return "/static/css/journal.css"
    if any(arg not in ids or not ids[arg] for arg in rule.arguments):
        return None
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<{arg}>", ids[arg])
    return url


def worker_rss(instance_path: str) -> dict[str, Any]:
    """Serve every GET page once (counsellor pages as the counsellor, portal pages as the
    client; account pages as both), then report this process's memory."""
    from bench import dataset as data
    from bench.scenarios import signed_in_client

    ds = data.Dataset.load(instance_path)
    app = data.make_bench_app(instance_path, ds.database_url)
    counsellor, _ = signed_in_client(app, data.COUNSELLOR_LOGIN)
    client, _ = signed_in_client(app, ds.client_login)
    ids = {"case_id": ds.timeline_case_id, "session_id": ds.session_id,
           "reflection_id": ds.reflection_id, "question_id": ds.question_id,
           "person_id": ds.person_id}
    pages, failed, skipped = 0, [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or any(s in rule.endpoint for s in _SKIP):
            continue
        url = _url_for_rule(rule, ids)
        if url is None:
            skipped.append(rule.endpoint)
            continue
        if rule.endpoint.startswith("portal."):
            browsers = [client]
        elif rule.endpoint.startswith("auth."):
            browsers = [counsellor, client]
        else:
            browsers = [counsellor]
        for browser in browsers:
            resp = browser.get(url)
            resp.close()
            pages += 1
            if resp.status_code >= 400:
                failed.append(f"{rule.endpoint} {resp.status_code}")
    rss, hwm = _status_mb()
    return {"rss_mb": rss, "hwm_mb": hwm, "pages": pages, "failed": failed,
            "skipped": skipped}


def export_rss(instance_path: str) -> dict[str, Any]:
    """Export the big case once (anonymised Markdown) and report this process's peak memory."""
    from bench import dataset as data
    from journal.auth import service as auth
    from journal.db import session_for
    from journal.export import service as export_service
    from journal.keyring import Keyring
    from journal.models import Case

    ds = data.Dataset.load(instance_path)
    app = data.make_bench_app(instance_path, ds.database_url)
    with app.test_request_context(), session_for(app) as db:
        unlocked = auth.authenticate(db, data.COUNSELLOR_LOGIN, data.PASSPHRASE,
                                     data.fast_kdf(app))
        keyring = Keyring(db, unlocked.user, unlocked.private_key)
        case = db.get(Case, ds.big_case_id)
        before = _status_mb()[1]
        started = time.perf_counter()
        document = export_service.anonymised_document(db, keyring, case, "md")
        seconds = time.perf_counter() - started
        db.rollback()
    rss, hwm = _status_mb()
    return {"rss_mb": rss, "hwm_mb": hwm, "before_mb": before, "seconds": seconds,
            "bytes": len(document)}


def main(argv: list[str]) -> int:
    command, instance_path = argv[0], argv[1]
    if command == "worker-rss":
        out = worker_rss(instance_path)
    elif command == "export-rss":
        out = export_rss(instance_path)
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
