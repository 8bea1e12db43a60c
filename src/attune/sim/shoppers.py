"""Synthetic shoppers whose hidden emotional state drives their behaviour and outcomes.

Each shopper walks a checkout journey. A latent state (calm, confused, frustrated, anxious)
with an intensity shapes what they do at each step: confused shoppers re-read, go back, click
what does nothing and look for help; frustrated ones rage-click, hit errors and thrash forms;
anxious ones linger on prices and terms. Dropout risk per step grows with intensity. When the
journey adapts in a way that fits the shopper's state, the intensity eases and with it the risk;
an adaptation that does not fit helps nothing. Pure: no I/O; the driver sends the events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

STEPS = ("/product", "/cart", "/checkout/delivery", "/checkout/payment", "/checkout/review")
LATENT = ("calm", "confused", "frustrated", "anxious")
# Which adaptation modes help which latent state.
HELPS = {
    "confused": {"simplified", "guided", "escalate_to_human"},
    "frustrated": {"fast_track", "simplified", "escalate_to_human"},
    "anxious": {"trust", "slow", "escalate_to_human"},
}
BASE_DROPOUT = 0.035  # per step, calm shopper


@dataclass
class Shopper:
    id: str
    session_id: str
    latent: str
    intensity: float  # 0..1
    device: str
    new_customer: bool
    trouble_step: int  # where their trouble starts
    rng: random.Random
    t: float
    seq: int = 0
    step: int = 0
    done: bool = False
    converted: bool = False
    helped: int = 0
    modes_seen: list[str] = field(default_factory=list)

    def _ev(self, kind: str, **body: Any) -> dict[str, Any]:
        self.seq += 1
        self.t += body.pop("dt", 0.5)
        return {
            "type": kind,
            "messageId": f"{self.session_id}-{self.seq}",
            "anonymousId": self.id,
            "sessionId": self.session_id,
            "timestamp": self.t,
            "context": {"channel": "web", "device": self.device},
            **body,
        }

    def _click(
        self, dt: float, selector: str = "#continue", x: int = 200, y: int = 400
    ) -> dict[str, Any]:
        return self._ev(
            "track", event="click", dt=dt, properties={"selector": selector, "x": x, "y": y}
        )

    def step_events(self) -> list[dict[str, Any]]:
        """The events of the current step (page view and what happens on the page)."""
        r, path = self.rng, STEPS[self.step]
        # The page opens right after the previous step's "continue" click.
        events = [self._ev("page", properties={"path": path}, dt=r.uniform(0.3, 0.9))]
        troubled = self.step >= self.trouble_step and self.latent != "calm"
        strength = self.intensity if troubled else 0.0
        if self.latent == "frustrated" and r.random() < strength:
            n = r.randint(3, 6)
            for _ in range(n):
                events.append(self._click(r.uniform(0.15, 0.4)))
            if r.random() < 0.5:
                events.append(
                    self._ev(
                        "track",
                        event="client_error",
                        dt=0.3,
                        properties={"message": "payment form error"},
                    )
                )
            for _ in range(r.randint(2, 4)):
                events.append(
                    self._ev(
                        "track",
                        event="validation_error",
                        dt=r.uniform(1, 3),
                        properties={"field": "card_number"},
                    )
                )
        elif self.latent == "confused" and r.random() < strength:
            prev = STEPS[max(0, self.step - 1)]
            events.append(self._ev("page", properties={"path": prev}, dt=r.uniform(2, 5)))
            events.append(self._ev("page", properties={"path": path}, dt=r.uniform(2, 5)))
            if r.random() < 0.5:  # a label that looks like a link and does nothing
                events.append(self._click(r.uniform(1, 3), "#delivery-info", 120, 220))
            for _ in range(5):
                events.append(
                    self._ev(
                        "track",
                        event="scroll",
                        dt=r.uniform(0.5, 1.5),
                        properties={"direction": r.choice(("up", "down"))},
                    )
                )
            if r.random() < 0.6:
                events.append(self._ev("page", properties={"path": "/help/checkout"}, dt=3))
                events.append(self._ev("page", properties={"path": path}, dt=r.uniform(5, 20)))
            for _ in range(3):
                events.append(
                    self._ev(
                        "track",
                        event="section_view",
                        dt=r.uniform(2, 4),
                        properties={"section": "delivery-options"},
                    )
                )
        elif self.latent == "anxious" and r.random() < strength:
            events.append(
                self._ev(
                    "track",
                    event="hover",
                    dt=r.uniform(1, 3),
                    properties={"selector": "#price-total", "duration_ms": r.uniform(1800, 5000)},
                )
            )
            for _ in range(2):
                events.append(self._ev("page", properties={"path": "/terms"}, dt=r.uniform(4, 9)))
                events.append(self._ev("page", properties={"path": path}, dt=r.uniform(3, 8)))
            events.append(self._ev("page", properties={"path": "/pricing"}, dt=r.uniform(3, 6)))
            events.append(self._ev("page", properties={"path": path}, dt=r.uniform(3, 6)))
        # Reading the page, then "continue" (the next page follows within a second).
        events.append(self._click(r.uniform(3, 12)))
        return events

    def react(self, mode: str) -> None:
        """The journey answered with ``mode``: a fitting adaptation eases the shopper."""
        self.modes_seen.append(mode)
        if mode in HELPS.get(self.latent, ()):
            self.intensity *= 0.45
            self.helped += 1

    def advance(self) -> dict[str, Any] | None:
        """Finish the step: drop out, move on, or convert. Returns an outcome event if ended."""
        troubled = self.step >= self.trouble_step and self.latent != "calm"
        risk = BASE_DROPOUT + (0.22 * self.intensity if troubled else 0.0)
        if self.rng.random() < risk:
            self.done = True
            return self._ev("outcome", name="abandonment", step=STEPS[self.step], dt=1)
        self.step += 1
        if self.step == len(STEPS):
            self.done, self.converted = True, True
            value = round(self.rng.uniform(30, 180), 2)
            return self._ev("outcome", name="conversion", value=value, step=STEPS[-1], dt=2)
        return None


def make_shopper(i: int, seed: int, t0: float) -> Shopper:
    rng = random.Random(seed * 1_000_003 + i)
    latent = rng.choices(LATENT, weights=(0.45, 0.22, 0.18, 0.15))[0]
    return Shopper(
        id=f"shopper-{seed}-{i}",
        session_id=f"sim-{seed}-{i}",
        latent=latent,
        intensity=0.0 if latent == "calm" else rng.uniform(0.55, 1.0),
        device=rng.choice(("mobile", "desktop")),
        new_customer=rng.random() < 0.4,
        trouble_step=rng.randint(1, 3),
        rng=rng,
        t=t0 + i * 7.0,
    )
