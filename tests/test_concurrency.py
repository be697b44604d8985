"""Several people writing at once through the real request path: no 500, nothing lost.
(SQLite by default — WAL and busy_timeout; PostgreSQL in CI's second run.)"""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from journal.db import session_for
from journal.models import AuditEvent, Person

from conftest import (
    Browser,
    join_as_client,
    new_case,
    reflection_version,
    sign_in,
    start_reflection,
)

THREADS = 4
ROUNDS = 15


def test_concurrent_writers_all_succeed(app, counsellor):
    case_id = new_case(counsellor, "Busy Practice Client")
    client = join_as_client(app, counsellor, case_id, "busy-client")
    drafts = [start_reflection(client) for _ in range(THREADS)]
    failures: list[str] = []

    def counsellor_adds_people(n: int) -> None:
        me = Browser(app.test_client())
        sign_in(me, "ada")
        for i in range(ROUNDS):
            resp = me.post(f"/cases/{case_id}/people", {"name": f"Person {n}-{i}",
                                                        "relation": "friend"})
            if resp.status_code != 302:
                failures.append(f"people {resp.status_code}")

    def client_autosaves(n: int) -> None:
        me = Browser(app.test_client())
        sign_in(me, "busy-client")
        reflection_id = drafts[n]
        version = reflection_version(me, reflection_id)
        for i in range(ROUNDS):
            resp = me.post(f"/portal/reflections/{reflection_id}/autosave",
                           {"helped": f"typed {i}", "edit_version": version})
            if resp.status_code != 200:
                failures.append(f"autosave {resp.status_code}")
                continue
            version = str(resp.get_json()["edit_version"])

    threads = [threading.Thread(target=counsellor_adds_people, args=(n,))
               for n in range(THREADS // 2)]
    threads += [threading.Thread(target=client_autosaves, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(Person)) == (THREADS // 2) * ROUNDS
        seqs = list(db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))
    page = client.get(f"/portal/reflections/{drafts[0]}").get_data(as_text=True)
    assert re.search(rf"typed {ROUNDS - 1}</textarea>", page)
