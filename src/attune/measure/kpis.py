"""KPIs per moment, side by side with the emotional layer, broken down by any session field.

Input: ``SessionRecord``s (a session's summary, its outcome events and its state series), as
the store's loader builds them. Output: one row of business KPIs and emotional KPIs per group.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from attune.signals.taxonomy import CX_STATES, NEGATIVE_STATES


@dataclass(frozen=True)
class OutcomeRecord:
    name: str
    at: float
    value: float | None = None
    step: str | None = None


@dataclass(frozen=True)
class StatePoint:
    at: float
    top: str
    intensity: float = 0.0
    step: str | None = None


@dataclass
class SessionRecord:
    id: str
    subject: str
    started_at: float
    arm: str | None = None
    moment: str | None = None
    channel: str | None = None
    model_version: str | None = None
    top_state: str | None = None  # the engine's session summary (its latest state)
    segments: dict[str, str] = field(default_factory=dict)  # device, customer_type, intensity
    outcomes: list[OutcomeRecord] = field(default_factory=list)
    states: list[StatePoint] = field(default_factory=list)

    def first(self, name: str) -> OutcomeRecord | None:
        return next((o for o in sorted(self.outcomes, key=lambda o: o.at) if o.name == name), None)

    @property
    def worst_state(self) -> str | None:
        """The engine's summary state; else the negative state held most often in the series;
        a session without any state evidence counts as neutral."""
        if self.top_state in CX_STATES:
            return self.top_state
        if not self.states:
            return "neutral"
        counts = Counter(p.top for p in self.states)
        negative = [s for s in counts if s in NEGATIVE_STATES]
        pool = negative or list(counts)
        return max(pool, key=lambda s: (counts[s], s))

    @property
    def peak_intensity(self) -> float:
        return max((p.intensity for p in self.states if p.top in NEGATIVE_STATES), default=0.0)

    def group_value(self, key: str) -> str:
        if key in ("arm", "moment", "channel", "model_version"):
            return str(getattr(self, key) or "(none)")
        return self.segments.get(key, "(none)")


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _rate(k: int, n: int) -> float | None:
    return k / n if n else None


def _de_escalation(s: SessionRecord) -> tuple[list[float], int]:
    """Seconds from entering a negative state to the next neutral/satisfied one; transitions."""
    times, transitions, since = [], 0, None
    for p in sorted(s.states, key=lambda p: p.at):
        if p.top in NEGATIVE_STATES:
            if since is None:
                since = p.at
        elif since is not None:
            times.append(p.at - since)
            transitions += p.top == "neutral" or p.top == "satisfied"
            since = None
    return times, transitions


def _nps(scores: Sequence[float]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for v in scores if v >= 9)
    detractors = sum(1 for v in scores if v <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def _dropout_per_step(sessions: Sequence[SessionRecord]) -> dict[str, dict[str, Any]]:
    reached: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for s in sessions:
        steps = {p.step for p in s.states if p.step}
        steps |= {o.step for o in s.outcomes if o.step}
        reached.update(steps)
        a = s.first("abandonment")
        if a and a.step:
            dropped[a.step] += 1
    return {
        st: {"reached": n, "dropped": dropped[st], "dropout": dropped[st] / n}
        for st, n in sorted(reached.items())
    }


def kpi_row(sessions: Sequence[SessionRecord]) -> dict[str, Any]:
    n = len(sessions)
    conv = [s for s in sessions if s.first("conversion")]
    completion = [c.at - s.started_at for s in conv if (c := s.first("conversion"))]
    values = [
        o.value
        for s in sessions
        for o in s.outcomes
        if o.name in ("conversion", "order") and o.value is not None
    ]
    contacts = [
        s for s in sessions if s.first("contact") or s.first("handled") or s.first("resolved")
    ]
    handled = [
        o.value for s in sessions for o in s.outcomes if o.name == "handled" and o.value is not None
    ]
    resolved = [s for s in contacts if (r := s.first("resolved")) and (r.value is None or r.value)]

    def scores(name: str) -> list[float]:
        return [
            o.value for s in sessions for o in s.outcomes if o.name == name and o.value is not None
        ]

    de_esc, transitions, neg_sessions = [], 0, 0
    share: Counter[str] = Counter()
    for s in sessions:
        t, k = _de_escalation(s)
        de_esc += t
        transitions += k
        w = s.worst_state
        if w:
            share[w] += 1
            neg_sessions += w in NEGATIVE_STATES
    with_states = sum(share.values())
    return {
        "sessions": n,
        "business": {
            "conversion_rate": _rate(len(conv), n),
            "dropout_rate": _rate(sum(1 for s in sessions if s.first("abandonment")), n),
            "time_to_completion_s": statistics.median(completion) if completion else None,
            "order_value_mean": _mean(values),
            "handling_time_s": _mean(handled),
            "first_contact_resolution": _rate(len(resolved), len(contacts)),
            "csat_mean": _mean(scores("csat")),
            "nps": _nps(scores("nps")),
            "ces_mean": _mean(scores("ces")),
            "churn_rate": _rate(sum(1 for s in sessions if s.first("churn")), n),
            "downgrade_rate": _rate(sum(1 for s in sessions if s.first("downgrade")), n),
            "dropout_per_step": _dropout_per_step(sessions),
        },
        "emotional": {
            "sessions_with_state": with_states,
            "state_share": {st: _rate(share[st], with_states) for st in CX_STATES},
            "negative_share": _rate(neg_sessions, with_states),
            "time_to_de_escalation_s": statistics.median(de_esc) if de_esc else None,
            "negative_to_neutral_transitions": transitions,
        },
    }


def kpis(
    sessions: Iterable[SessionRecord], by: Sequence[str] = ("moment", "arm")
) -> dict[str, Any]:
    """KPIs overall and per combination of the ``by`` fields (arm, moment, channel, device ...)."""
    ss = list(sessions)
    groups: dict[tuple[str, ...], list[SessionRecord]] = defaultdict(list)
    for s in ss:
        groups[tuple(s.group_value(k) for k in by)].append(s)
    return {
        "by": list(by),
        "overall": kpi_row(ss),
        "groups": [
            {"key": dict(zip(by, key, strict=True)), **kpi_row(rows)}
            for key, rows in sorted(groups.items())
        ],
    }
