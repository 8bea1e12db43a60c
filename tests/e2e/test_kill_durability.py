"""``kill -9`` of a real ``attune serve`` under a mixed single/batch load: every event it
acknowledged is in the database after a restart, and replaying them all answers duplicates and
analyses nothing (dedupe survives the restart)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from attune.sim.server import child_server
from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0


def _event(message_id: str, n: int, session: str) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "anonymousId": f"v-{session}",
        "sessionId": session,
        "timestamp": T0 + n * 0.01,
        "event": "click",
        "properties": {"selector": "#pay", "x": 1, "y": 1},
    }


def test_acknowledged_events_survive_kill_9_and_replays_are_duplicates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    acked: list[dict[str, Any]] = []
    lock = threading.Lock()
    counter = itertools.count()
    stop = threading.Event()

    def load(base: str, key: str, worker: int) -> None:
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
            while not stop.is_set():
                n = next(counter)
                session = f"s-{worker}-{n % 7}"
                try:
                    if n % 3 == 0:  # single events and batches, mixed
                        events = [_event(f"s-{n}", n, session)]
                        r = client.post("/v1/track", json=events[0])
                    else:
                        events = [_event(f"b-{n}-{i}", n, session) for i in range(20)]
                        r = client.post("/v1/batch", json={"batch": events})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked.extend(events)

    with child_server(url) as server:
        workers = [
            threading.Thread(target=load, args=(server.base_url, server.admin_key, w))
            for w in range(4)
        ]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 30
        while len(acked) < 600 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.process.kill()  # SIGKILL: no shutdown flush
        server.process.wait()
        stop.set()
        for w in workers:
            w.join()
    assert len(acked) >= 600

    store = Store(url)
    with store.connect() as conn:
        stored = set(conn.execute(select(tables.events.c.id)).scalars())
        signals_before = conn.execute(select(func.count()).select_from(tables.signals)).scalar()
    store.close()
    ids = {e["messageId"] for e in acked}
    assert ids <= stored, f"{len(ids - stored)} acknowledged events lost"

    with child_server(url) as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        duplicates = 0
        for i in range(0, len(acked), 500):
            r = httpx.post(
                f"{server.base_url}/v1/batch",
                headers=auth,
                json={"batch": acked[i : i + 500]},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            duplicates += r.json()["duplicates"]
        assert duplicates == len(acked)
        one = httpx.post(f"{server.base_url}/v1/track", headers=auth, json=acked[0], timeout=10)
        assert one.status_code == 200
    store = Store(url)
    with store.connect() as conn:
        signals_after = conn.execute(select(func.count()).select_from(tables.signals)).scalar()
    store.close()
    assert signals_after == signals_before  # nothing was analysed again
