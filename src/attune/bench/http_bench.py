"""``attune bench http``: batch ingest over loopback against uvicorn in its own process."""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from attune.sim.server import child_server

from .events import behaviour_stream


def _bodies(n: int, batch: int, seed: int) -> list[bytes]:
    events = behaviour_stream(n, seed=seed)
    return [b'{"batch":[' + b",".join(events[i : i + batch]) + b"]}" for i in range(0, n, batch)]


def _send_all(
    base_url: str, key: str, bodies: list[bytes], clients: int, path: str = "/v1/batch"
) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker(part: list[bytes]) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            for body in part:
                response = client.post(path, content=body)
                response.raise_for_status()

    parts = [bodies[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, parts))
    return time.perf_counter() - start


def run(n: int = 100_000, batch: int = 500, repeat: int = 3, clients: int = 2) -> dict[str, Any]:
    rates, floors = [], []
    sent = n - 2 * batch
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            bodies = _bodies(n, batch, seed=100 + r)  # fresh ids: no run is a replay
            db = f"sqlite:///{Path(tmp) / f'http-{r}.db'}"
            with child_server(db, env={"ATTUNE_MODALITIES": '["behaviour"]'}) as server:
                url, key = server.base_url, server.admin_key
                _send_all(url, key, bodies[:2], 1)  # warm up
                # Baseline in the same server: HTTP, auth, guards and per-event validation only.
                floor = _send_all(url, key, bodies[2:], clients, "/v1/batch?validateOnly=true")
                elapsed = _send_all(url, key, bodies[2:], clients)
            floors.append(sent / floor)
            rates.append(sent / elapsed)
    eps, floor_eps = statistics.median(rates), statistics.median(floors)
    return {
        "benchmark": "http",
        "events": n,
        "batch": batch,
        "repeat": repeat,
        "clients": clients,
        "events_per_s": round(eps),
        "runs_events_per_s": [round(x) for x in rates],
        "validate_only_events_per_s": round(floor_eps),
        "ratio_to_validate_only": round(eps / floor_eps, 4),
        "note": "medians over repeats; uvicorn, one worker process, SQLite; the client runs on "
        "the same 2-core machine. validate_only: the same batches through HTTP, auth, guards "
        "and per-event validation, processed and stored not at all (the floor of the API).",
        "targets": {"events_per_s": 20_000},
    }
