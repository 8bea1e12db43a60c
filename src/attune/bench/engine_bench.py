"""``attune bench engine``: in-process event-to-decision throughput and latency, against the
floor of merely parsing the same events with orjson."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from attune.assembly import build
from attune.config import load_settings
from attune.engine import tune_gc
from attune.events.schemas import BehaviourEvent
from attune.storage.store import Store

from .events import behaviour_stream

PARSE: TypeAdapter[Any] = TypeAdapter(BehaviourEvent)
DEFAULT_GC = gc.get_threshold()


def _parse_floor(events: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in events:
        orjson.loads(raw)
    return len(events) / (time.perf_counter() - start)


def _parse_only(events: list[bytes]) -> float:
    """Seconds per event for orjson + the pydantic event model."""
    start = time.perf_counter()
    for raw in events:
        PARSE.validate_python(orjson.loads(raw))
    return (time.perf_counter() - start) / len(events)


def _in_memory(events: list[bytes]) -> float:
    """Seconds per event for parse + gate + detectors + fusion + decision, storing nothing."""
    settings = load_settings(database_url="sqlite://", modalities=["behaviour"])
    engine = build(settings, persistent=False).engine
    tune_gc()
    start = time.perf_counter()
    for raw in events:
        item = orjson.loads(raw)
        engine.ingest(PARSE.validate_python(item), raw=item)
    elapsed = time.perf_counter() - start
    _untune_gc()
    return elapsed / len(events)


def _untune_gc() -> None:
    gc.unfreeze()
    gc.set_threshold(*DEFAULT_GC)


def _engine_run(
    events: list[bytes], flush_every: int, writer_thread: bool
) -> tuple[float, list[int]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", modalities=["behaviour"]
        )
        store = Store(settings.database_url)
        # the real gate: stored consent ledger, pseudonyms, audit
        engine = build(settings, store=store).engine
        latencies = [0] * len(events)
        clock = time.perf_counter_ns
        writer = ThreadPoolExecutor(1) if writer_thread else None
        pending: list[Future[int]] = []
        tune_gc()  # as the service does after start-up
        start = time.perf_counter()
        for i, raw in enumerate(events):
            t0 = clock()
            item = orjson.loads(raw)
            engine.ingest(PARSE.validate_python(item), raw=item)
            latencies[i] = clock() - t0
            if i % flush_every == flush_every - 1:
                if writer is None:
                    engine.flush()
                else:  # as the service does: drain here, write on the writer thread
                    pending.append(writer.submit(engine.write, engine.drain()))
        engine.flush()
        for done in pending:
            done.result()
        elapsed = time.perf_counter() - start
        _untune_gc()
        if writer is not None:
            writer.shutdown()
        store.close()
    return len(events) / elapsed, latencies


def run(n: int = 100_000, repeat: int = 3, flush_every: int = 1000) -> dict[str, Any]:
    events = behaviour_stream(n)
    floors: list[float] = []
    stages: dict[str, list[float]] = {"parse": [], "in_memory": []}
    runs: dict[bool, dict[str, list[float]]] = {
        mode: {"rate": [], "p50": [], "p99": []} for mode in (True, False)
    }
    for _ in range(repeat):
        floors.append(_parse_floor(events))
        stages["parse"].append(_parse_only(events))
        stages["in_memory"].append(_in_memory(events))
        for writer_thread, r in runs.items():
            rate, lat = _engine_run(events, flush_every, writer_thread)
            lat.sort()
            r["rate"].append(rate)
            r["p50"].append(lat[len(lat) // 2] / 1e6)
            r["p99"].append(lat[int(len(lat) * 0.99)] / 1e6)
    floor = statistics.median(floors)
    threaded, inline = runs[True], runs[False]
    eps = statistics.median(threaded["rate"])
    inline_eps = statistics.median(inline["rate"])
    return {
        "benchmark": "engine",
        "events": n,
        "repeat": repeat,
        "events_per_s": round(eps),
        "p50_ms": round(statistics.median(threaded["p50"]), 4),
        "p99_ms": round(statistics.median(threaded["p99"]), 4),
        "parse_floor_events_per_s": round(floor),
        "ratio_to_parse_floor": round(eps / floor, 4),
        "inline_writes": {
            "events_per_s": round(inline_eps),
            "p50_ms": round(statistics.median(inline["p50"]), 4),
            "p99_ms": round(statistics.median(inline["p99"]), 4),
            "ratio_to_parse_floor": round(inline_eps / floor, 4),
        },
        # Where the time of one event goes (microseconds, medians): orjson alone, + the event
        # model, + the engine in memory, + SQLite writes (the top-level rate).
        "us_per_event": {
            "orjson": round(1e6 / floor, 2),
            "parse": round(1e6 * statistics.median(stages["parse"]), 2),
            "engine_in_memory": round(1e6 * statistics.median(stages["in_memory"]), 2),
            "engine_with_writes": round(1e6 / eps, 2),
        },
        "note": "medians over repeats. Per event: orjson + pydantic parse, gate (consent "
        "ledger, pseudonyms, PII check), behaviour detectors, fusion, decision. Every "
        f"{flush_every} events the buffered rows (raw events, signals, states, decisions, "
        "sessions, audit chain) go to SQLite: on a writer thread as the service does "
        "(top-level figures; the time to finish writing is counted), or inline on the one "
        "thread (inline_writes). Latencies are per event, without the write.",
        "targets": {"events_per_s": 50_000, "p99_ms": 1.0, "ratio_to_parse_floor": 0.2},
    }
