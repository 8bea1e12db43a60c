"""Synthetic shoppers whose hidden emotional state drives their behaviour and outcomes.

Each shopper walks a checkout journey. A latent state (calm, confused, frustrated, anxious)
with an intensity shapes what they do at each step: confused shoppers re-read, go back, click
what does nothing and look for help; frustrated ones rage-click, hit errors and thrash forms;
anxious ones linger on prices and terms. Dropout risk per step grows with intensity. What an
adaptation does to a shopper is an assumption (``attune.sim.assumptions``): it can help, do
nothing or hurt, and a troubled shopper recovers a little on their own in either arm.

Customers come back: a customer has a temperament (the kind of trouble they tend to have, how
often and how strongly), so their earlier sessions say something about the next one (the
pre-period CUPED uses). Pure: no I/O; the driver sends the events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from attune.sim.assumptions import FITS, Assumptions

STEPS = ("/product", "/cart", "/checkout/delivery", "/checkout/payment", "/checkout/review")
LATENT = ("calm", "confused", "frustrated", "anxious")
DAY = 86400.0
HARM_RISK = 0.25  # harmful scenario: extra dropout risk of an adapted step at effect 1


@dataclass
class Shopper:
    id: str
    session_id: str
    latent: str
    intensity: float  # 0..1
    device: str
    locale: str
    new_customer: bool
    trouble_step: int  # where their trouble starts
    rng: random.Random
    t: float
    assumptions: Assumptions = field(default_factory=Assumptions)
    patience: float = 1.0  # the customer's factor on the base dropout (browsers leave more)
    friction: float = 0.0  # extra dropout risk of the current step (a misfitting mode)
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
            "context": {"channel": "web", "device": self.device, "locale": self.locale},
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
        """The journey answered with ``mode``; what that does is the scenario's assumption."""
        self.modes_seen.append(mode)
        a = self.assumptions
        if mode == "standard" or a.scenario == "none":
            return
        troubled = self.step >= self.trouble_step and self.latent != "calm"
        if a.scenario == "harmful":
            if troubled:
                self.intensity += a.effect * (1.0 - self.intensity)
            self.friction = a.misfit_risk + a.effect * HARM_RISK
        elif mode in FITS.get(self.latent, frozenset()):
            self.intensity *= 1.0 - a.effect
            self.helped += 1
        else:  # a mode that does not fit: a detour that costs time and patience
            self.friction = a.misfit_risk

    def advance(self) -> dict[str, Any] | None:
        """Finish the step: drop out, move on, or convert. Returns an outcome event if ended."""
        a = self.assumptions
        troubled = self.step >= self.trouble_step and self.latent != "calm"
        trouble = a.trouble_dropout * self.intensity if troubled else 0.0
        risk = a.base_dropout * self.patience + self.friction + trouble
        self.friction = 0.0
        if troubled:  # recovery on its own, in either arm
            self.intensity *= 1.0 - a.recovery
        if self.rng.random() < risk:
            self.done = True
            return self._ev("outcome", name="abandonment", step=STEPS[self.step], dt=1)
        self.step += 1
        if self.step == len(STEPS):
            self.done, self.converted = True, True
            value = round(self.rng.uniform(30, 180), 2)
            return self._ev("outcome", name="conversion", value=value, step=STEPS[-1], dt=2)
        return None


@dataclass(frozen=True)
class Customer:
    """A returning customer's temperament: the trouble they tend to have, how often, how hard."""

    id: str
    kind: str  # confused, frustrated or anxious: the trouble this customer tends to have
    trouble_rate: float  # share of their sessions with trouble
    strength: tuple[float, float]  # range of their intensity when troubled
    device: str
    locale: str  # the disparity report's language groups
    visits_before: int  # earlier sessions in the pre-period
    patience: float  # factor on the base dropout: some customers browse and leave whatever


def make_customer(i: int, seed: int, a: Assumptions | None = None) -> Customer:
    a = a or Assumptions()
    rng = random.Random(f"customer:{seed}:{i}")
    kind = rng.choices(LATENT[1:], weights=(0.4, 0.33, 0.27))[0]
    lo = rng.uniform(0.45, 0.8)
    returning = rng.random() < a.returning_share
    return Customer(
        id=f"shopper-{seed}-{i}",
        kind=kind,
        trouble_rate=rng.betavariate(0.8, 0.65),  # mean 0.55; most customers lean one way
        strength=(lo, min(1.0, lo + 0.3)),
        device=rng.choice(("mobile", "desktop")),
        locale=rng.choices(("en-GB", "de-DE", "fr-FR"), weights=(0.6, 0.25, 0.15))[0],
        visits_before=rng.randint(1, 4) if returning else 0,
        # Mean about 1, wide: a few browsers leave most visits, many buyers rarely do.
        patience=min(8.0, max(0.1, rng.lognormvariate(-0.5, 1.0))),
    )


def make_shopper(
    customer: Customer,
    visit: int,
    seed: int,
    t: float,
    a: Assumptions | None = None,
) -> Shopper:
    """One session of ``customer`` (``visit`` 0 is the experiment's, earlier ones are -1, -2..)."""
    a = a or Assumptions()
    rng = random.Random(f"session:{seed}:{customer.id}:{visit}")
    troubled = rng.random() < customer.trouble_rate
    latent = customer.kind if troubled else "calm"
    return Shopper(
        id=customer.id,
        session_id=f"sim-{customer.id.removeprefix('shopper-')}"
        + (f"-pre{-visit}" if visit else ""),
        latent=latent,
        intensity=rng.uniform(*customer.strength) if troubled else 0.0,
        device=customer.device,
        locale=customer.locale,
        new_customer=customer.visits_before == 0,
        trouble_step=rng.randint(1, 3),
        rng=rng,
        t=t,
        assumptions=a,
        patience=customer.patience,
    )


def sessions_for(
    n: int, seed: int, t0: float, a: Assumptions | None = None
) -> tuple[list[Shopper], list[Shopper]]:
    """``n`` customers: their earlier sessions (in the pre-period window before ``t0``, oldest
    first) and one session each from ``t0`` on, 7 s apart (the experiment)."""
    a = a or Assumptions()
    history: list[Shopper] = []
    current: list[Shopper] = []
    window = a.pre_period_days * DAY
    for i in range(n):
        c = make_customer(i, seed, a)
        rng = random.Random(f"visits:{seed}:{i}")
        for k in range(c.visits_before):
            at = t0 - rng.uniform(0.05, 0.95) * window
            history.append(make_shopper(c, -(k + 1), seed, at, a))
        current.append(make_shopper(c, 0, seed, t0 + i * 7.0, a))
    history.sort(key=lambda s: s.t)
    return history, current
