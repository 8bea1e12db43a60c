"""``attune bench engine``: in-process event-to-decision throughput and latency, against the
floor of merely parsing the same events with orjson."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from attune.config import load_settings
from attune.engine import Engine
from attune.events.schemas import BehaviourEvent
from attune.privacy.services import install as install_trust
from attune.storage.store import Store

from .events import behaviour_stream

PARSE: TypeAdapter[Any] = TypeAdapter(BehaviourEvent)


def _parse_floor(events: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in events:
        orjson.loads(raw)
    return len(events) / (time.perf_counter() - start)


def _engine_run(events: list[bytes], flush_every: int) -> tuple[float, list[int]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", modalities=["behaviour"]
        )
        store = Store(settings.database_url)
        engine = Engine(settings, store)
        install_trust(engine, store)  # the real gate: consent ledger, pseudonyms, audit
        latencies = [0] * len(events)
        clock = time.perf_counter_ns
        start = time.perf_counter()
        for i, raw in enumerate(events):
            t0 = clock()
            item = orjson.loads(raw)
            engine.ingest(PARSE.validate_python(item), raw=item)
            latencies[i] = clock() - t0
            if i % flush_every == flush_every - 1:
                engine.flush()
        engine.flush()
        elapsed = time.perf_counter() - start
        store.close()
    return len(events) / elapsed, latencies


def run(n: int = 100_000, repeat: int = 3, flush_every: int = 1000) -> dict[str, Any]:
    events = behaviour_stream(n)
    floors, rates, p50s, p99s = [], [], [], []
    for _ in range(repeat):
        floors.append(_parse_floor(events))
        rate, lat = _engine_run(events, flush_every)
        lat.sort()
        rates.append(rate)
        p50s.append(lat[len(lat) // 2] / 1e6)
        p99s.append(lat[int(len(lat) * 0.99)] / 1e6)
    eps, floor = statistics.median(rates), statistics.median(floors)
    return {
        "benchmark": "engine",
        "events": n,
        "repeat": repeat,
        "events_per_s": round(eps),
        "p50_ms": round(statistics.median(p50s), 4),
        "p99_ms": round(statistics.median(p99s), 4),
        "parse_floor_events_per_s": round(floor),
        "ratio_to_parse_floor": round(eps / floor, 4),
        "note": "one thread; pydantic parse + gate (consent ledger, pseudonyms) + behaviour "
        "detectors + fusion + decision per event; decisions audited at flush; "
        f"SQLite writes batched every {flush_every} events and counted in the time; "
        "p99 includes the flush stalls",
        "targets": {"events_per_s": 50_000, "p99_ms": 1.0, "ratio_to_parse_floor": 0.2},
    }
