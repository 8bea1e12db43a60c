"""The benchmark commands run end to end and print one JSON object with the documented keys
(small sizes: this checks the commands, not the speed; figures come from full runs)."""

from __future__ import annotations

import json
import subprocess
import sys


def _bench(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "attune", "bench", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_bench_engine_prints_rates_latencies_and_the_parse_floor() -> None:
    r = _bench("engine", "--events", "2000", "--repeat", "1")
    for key in ("events_per_s", "p50_ms", "p99_ms", "parse_floor_events_per_s"):
        assert isinstance(r[key], int | float) and r[key] > 0, key
    stages = r["us_per_event"]
    assert isinstance(stages, dict)
    assert stages["orjson"] < stages["parse"] < stages["engine_in_memory"]
    assert 0 < r["ratio_to_parse_floor"] < 1  # type: ignore[operator]


def test_bench_http_prints_the_rate_and_its_validate_only_floor() -> None:
    r = _bench("http", "--events", "3000", "--batch", "500", "--repeat", "1")
    assert r["events_per_s"] > 0 and r["validate_only_events_per_s"] > 0  # type: ignore[operator]
    assert r["runs_events_per_s"] and r["ratio_to_validate_only"] > 0  # type: ignore[operator]
