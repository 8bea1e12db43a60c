"""Drive simulated shoppers through the real HTTP API and tally what happened."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from attune.sim.shoppers import make_shopper


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
class DemoTally:
    arms: dict[str, ArmTally] = field(default_factory=dict)
    states_seen: Counter[str] = field(default_factory=Counter)
    decisions_by_mode: Counter[str] = field(default_factory=Counter)
    latent: Counter[str] = field(default_factory=Counter)
    events: int = 0
    requests: int = 0
    errors: int = 0
    throttled: int = 0  # 429 answers waited out


def drive(
    base_url: str,
    key: str,
    sessions: int,
    seed: int = 7,
    on_session: Callable[[], None] | None = None,
    t0: float = 1_767_000_000.0,
) -> DemoTally:
    tally = DemoTally()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for i in range(sessions):
            shopper = make_shopper(i, seed, t0)
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
    return tally


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
