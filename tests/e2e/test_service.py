"""The real service in its own process: SSE pushes decisions as they change, and
``attune demo --json`` shows the adaptive arm reacting to simulated trouble."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from attune.sim.server import child_server

T0 = 1_767_000_000.0


def test_sse_stream_pushes_the_changed_decision(tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 'sse.db'}") as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        base = {"anonymousId": "v", "sessionId": "live-1"}
        httpx.post(
            f"{server.base_url}/v1/page",
            headers=auth,
            json={**base, "messageId": "p", "timestamp": T0, "properties": {"path": "/checkout"}},
        )
        received: list[dict[str, Any]] = []

        def listen() -> None:
            with httpx.stream(
                "GET", f"{server.base_url}/v1/sessions/live-1/stream", headers=auth, timeout=20
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("data:") and line != "data: {}":
                        received.append(json.loads(line[5:]))
                        if len(received) == 2:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        for _ in range(150):  # wait (up to 15 s) until the subscriber got the current decision
            if received:
                break
            listener.join(0.1)
        clicks = [
            {
                "type": "track",
                **base,
                "messageId": f"c{i}",
                "timestamp": T0 + 1 + i * 0.2,
                "event": "click",
                "properties": {"selector": "#pay", "x": 1, "y": 1},
            }
            for i in range(4)
        ]
        httpx.post(f"{server.base_url}/v1/batch", headers=auth, json={"batch": clicks})
        listener.join(15)
    assert [d["mode"] for d in received] == ["standard", "fast_track"]
    assert "clicks" in received[1]["explanation"]


def test_demo_json_states_its_assumptions_and_under_none_finds_nothing(tmp_path: Path) -> None:
    """The adaptive arm reacts to simulated trouble; with adapting assumed to change nothing
    (an A/A-like check of the whole pipeline) the read-out finds nothing."""
    db = tmp_path / "demo.db"
    cmd = [sys.executable, "-m", "attune", "demo", "--sessions", "150", "--scenario", "none"]
    cmd += ["--returning", "0.3", "--json", "--db", str(db)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert next(iter(summary)) == "assumptions"  # stated first
    a = summary["assumptions"]
    assert a["scenario"] == "none" and a["simulated"] and "SIMULATED" in a["statement"]
    assert summary["sessions"] == 150 and summary["errors"] == 0
    assert set(summary["arms"]) == {"adaptive", "control"}
    assert summary["arms"]["control"]["adapted_sessions"] == 0
    assert summary["arms"]["adaptive"]["adapted_sessions"] > 0
    assert {"frustrated", "confused"} <= set(summary["states_seen"])
    assert set(summary["decisions_by_mode"]) - {"standard"}  # some adaptation happened
    e = summary["experiment"]  # the measurement read-out of the two arms
    assert sum(e["units"].values()) == 150 and "dropout" in e["verdict"]
    lo, hi = e["primary"]["relative_ci"]
    assert lo < 0 < hi and not e["significant"] and e["hard_stop"] is None
    assert e["status"] == "running"  # registered and started before the first shopper
    assert summary["pre_period_sessions"] > 0 and 0.1 < e["cuped"]["coverage"] < 0.6
    assert "shoppers a month who open a product page" in e["roi"]["assumptions"]["unit"]
    assert db.exists()


def test_demo_scenario_harmful_trips_the_hard_stop_and_reverts(tmp_path: Path) -> None:
    import dataclasses

    from attune.measure.defaults import checkout_definition
    from attune.measure.experiments import Guardrail
    from attune.sim.assumptions import Assumptions
    from attune.sim.demo import run_demo

    # The checkout guardrail waits for 200 units per arm; a smaller minimum keeps this fast.
    d = dataclasses.replace(
        checkout_definition(),
        guardrails=(Guardrail("dropout", max_relative_change=0.2, min_per_arm=40),),
    )
    a = Assumptions(scenario="harmful", effect=1.0, returning_share=0.0)
    summary = run_demo(300, 7, tmp_path / "harm.db", True, a, check_every=25, definition=d)
    stop = summary["experiment"]["hard_stop"]
    assert stop is not None and stop["reasons"][0].startswith("dropout is up")
    assert 0 < stop["after_sessions"] < 300 and stop["sessions_after_stop"] > 0
    assert stop["adapted_sessions_after_stop"] == 0 and set(stop["arms_after_stop"]) == {"control"}
    assert summary["experiment"]["status"] == "stopped"
    assert summary["assumptions"]["scenario"] == "harmful"
