"""Drive simulated shoppers through the real HTTP API and tally what happened."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from attune.sim.shoppers import Shopper


@dataclass
class ArmTally:
    sessions: int = 0
    converted: int = 0
    abandoned: int = 0
    adapted_sessions: int = 0
    troubled: int = 0
    troubled_converted: int = 0

    def to_dict(self) -> dict[str, Any]:
        n = max(1, self.sessions)
        t = max(1, self.troubled)
        return {
            "sessions": self.sessions,
            "converted": self.converted,
            "abandoned": self.abandoned,
            "dropout_rate": round(self.abandoned / n, 4),
            "conversion_rate": round(self.converted / n, 4),
            "adapted_sessions": self.adapted_sessions,
            "troubled_sessions": self.troubled,
            "troubled_conversion_rate": round(self.troubled_converted / t, 4),
        }


@dataclass
class AfterStop:
    """Sessions that started after a hard stop: all should be on the neutral journey."""

    sessions: int = 0
    adapted_sessions: int = 0
    arms: Counter[str] = field(default_factory=Counter)


@dataclass
class DemoTally:
    arms: dict[str, ArmTally] = field(default_factory=dict)
    states_seen: Counter[str] = field(default_factory=Counter)
    decisions_by_mode: Counter[str] = field(default_factory=Counter)
    latent: Counter[str] = field(default_factory=Counter)
    events: int = 0
    requests: int = 0
    errors: int = 0
    throttled: int = 0  # 429 answers waited out
    after_stop: AfterStop = field(default_factory=lambda: AfterStop())


@dataclass
class HardStopSeen:
    after_sessions: int  # sessions driven when the check found the stop
    event_time: float  # the simulated time of the last of them
    reasons: list[str]


def drive(
    base_url: str,
    key: str,
    shoppers: Iterable[Shopper],
    on_session: Callable[[], None] | None = None,
    experiment: str | None = None,
    check_every: int = 100,
) -> tuple[DemoTally, HardStopSeen | None]:
    """Send each shopper's events, let them react to the decisions, tally the outcomes. With
    ``experiment``, ask the service to check its guardrails every ``check_every`` sessions (as
    its own watcher would, only more often) and note when it stopped the adaptive arm."""
    tally = DemoTally()
    stop: HardStopSeen | None = None
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for i, shopper in enumerate(shoppers):
            tally.latent[shopper.latent] += 1
            arm, worst, modes = "?", "neutral", set()
            while not shopper.done:
                batch = shopper.step_events()
                outcome_pending = None
                decision = _send(client, tally, batch).get(shopper.session_id)
                if decision:
                    arm = decision["arm"]
                    top = decision["state"]["top"]
                    if top != "neutral" and not decision["state"]["uncertain"]:
                        worst = top
                    if decision["mode"] != "standard":
                        modes.add(decision["mode"])
                    shopper.react(decision["mode"])
                outcome_pending = shopper.advance()
                if outcome_pending:
                    _send(client, tally, [outcome_pending])
            if stop is not None:  # not part of the comparison any more
                tally.after_stop.sessions += 1
                tally.after_stop.adapted_sessions += bool(modes)
                tally.after_stop.arms[arm] += 1
                if on_session:
                    on_session()
                continue
            t = tally.arms.setdefault(arm, ArmTally())
            t.sessions += 1
            t.converted += shopper.converted
            t.abandoned += not shopper.converted
            t.adapted_sessions += bool(modes)
            if shopper.latent != "calm":
                t.troubled += 1
                t.troubled_converted += shopper.converted
            tally.states_seen[worst] += 1
            for mode in modes or {"standard"}:
                tally.decisions_by_mode[mode] += 1
            if on_session:
                on_session()
            if experiment and stop is None and (i + 1) % check_every == 0:
                r = client.post(f"/v1/experiments/{experiment}/hard-stop-check")
                if r.status_code == 200 and r.json().get("stop"):
                    stop = HardStopSeen(i + 1, shopper.t, list(r.json().get("reasons") or []))
    return tally, stop


def _send(client: httpx.Client, tally: DemoTally, batch: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/v1/batch", json={"batch": batch})
    for _ in range(5):  # a polite client: slowed down, it waits as told and sends again
        if response.status_code != 429:
            break
        tally.throttled += 1
        time.sleep(float(response.headers.get("retry-after", "1")))
        response = client.post("/v1/batch", json={"batch": batch})
    tally.requests += 1
    tally.events += len(batch)
    if response.status_code != 200:
        tally.errors += 1
        return {}
    body = response.json()
    tally.errors += len(body["errors"])
    decisions: dict[str, Any] = body["decisions"]
    return decisions
