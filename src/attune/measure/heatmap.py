"""Emotion heatmap per journey step, page or element, and the ranked emotional bottlenecks.

Input is a flat list of ``Touch`` records (what the store holds: a state observed at a step, a
behaviour signal at a step, a dropout at a step). Per touchpoint: sessions that reached it, the
share of those sessions in each CX state (their strongest state there), frustration signals per
session, and the dropout rate. A bottleneck is where many sessions feel bad: ranked by
``impact`` = sessions x (negative share + dropout rate) / 2, so a busy step that hurts a little
can outrank a quiet step that hurts a lot, as it does for the business.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from attune.signals.taxonomy import CX_STATES, NEGATIVE_STATES

FRUSTRATION_SIGNALS = frozenset({"rage_click", "dead_click", "error_click", "form_thrash"})
Level = Literal["step", "page", "element"]


@dataclass(frozen=True)
class Touch:
    session_id: str
    step: str | None = None
    page: str | None = None
    element: str | None = None
    state: str | None = None  # strongest CX state observed there
    intensity: float = 0.0
    signal: str | None = None  # a behaviour signal observed there
    dropped: bool = False  # the session ended here without completing


@dataclass
class Cell:
    touchpoint: str
    sessions: int
    state_share: dict[str, float]
    negative_share: float
    frustration_per_session: float
    sessions_with_frustration: float
    dropout_rate: float
    impact: float
    signals: dict[str, int] = field(default_factory=dict)

    @property
    def evidence(self) -> str:
        worst = max(NEGATIVE_STATES, key=lambda s: self.state_share.get(s, 0.0))
        return (
            f"{self.touchpoint}: {self.negative_share:.0%} of {self.sessions} sessions felt "
            f"negative here (mostly {worst}, {self.state_share.get(worst, 0.0):.0%}), "
            f"{self.frustration_per_session:.2f} frustration signals per session, "
            f"dropout {self.dropout_rate:.0%}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "evidence": self.evidence}


def heatmap(touches: Iterable[Touch], level: Level = "step", min_sessions: int = 1) -> list[Cell]:
    """Cells per touchpoint, ranked worst first (by impact, then negative share)."""
    if level not in ("step", "page", "element"):
        raise ValueError(f"level must be step, page or element, not {level!r}")
    reached: dict[str, set[str]] = defaultdict(set)
    states: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)  # tp -> session -> state
    signals: dict[str, Counter[str]] = defaultdict(Counter)
    frus_sessions: dict[str, set[str]] = defaultdict(set)
    dropped: dict[str, set[str]] = defaultdict(set)
    for t in touches:
        tp = getattr(t, level)
        if not tp:
            continue
        reached[tp].add(t.session_id)
        if t.state in CX_STATES:
            best = states[tp].get(t.session_id)
            negative = t.state in NEGATIVE_STATES
            # Keep the strongest negative state a session showed here, else its last state.
            if best is None or (
                negative and (best[1] not in NEGATIVE_STATES or t.intensity >= best[0])
            ):
                states[tp][t.session_id] = (t.intensity, t.state)
        if t.signal:
            signals[tp][t.signal] += 1
            if t.signal in FRUSTRATION_SIGNALS:
                frus_sessions[tp].add(t.session_id)
        if t.dropped:
            dropped[tp].add(t.session_id)
    cells = []
    for tp, sess in reached.items():
        n = len(sess)
        if n < min_sessions:
            continue
        seen = Counter(state for _, state in states[tp].values())
        share = {s: seen.get(s, 0) / n for s in CX_STATES}
        neg = sum(share[s] for s in NEGATIVE_STATES)
        frus = sum(c for name, c in signals[tp].items() if name in FRUSTRATION_SIGNALS)
        drop = len(dropped[tp]) / n
        cells.append(
            Cell(
                tp,
                n,
                share,
                neg,
                frus / n,
                len(frus_sessions[tp]) / n,
                drop,
                n * (neg + drop) / 2,
                dict(signals[tp]),
            )
        )
    cells.sort(key=lambda c: (-c.impact, -c.negative_share, c.touchpoint))
    return cells


def bottlenecks(cells: list[Cell], top: int = 5, min_negative: float = 0.1) -> list[dict[str, Any]]:
    """The worst touchpoints with their evidence (cells already ranked by ``heatmap``)."""
    worst = [c for c in cells if c.negative_share >= min_negative or c.dropout_rate >= min_negative]
    return [
        {
            "rank": i + 1,
            "touchpoint": c.touchpoint,
            "impact": round(c.impact, 2),
            "evidence": c.evidence,
        }
        for i, c in enumerate(worst[:top])
    ]


CSV_FIELDS = (
    "touchpoint",
    "sessions",
    *(f"share_{s}" for s in CX_STATES),
    "negative_share",
    "frustration_per_session",
    "sessions_with_frustration",
    "dropout_rate",
    "impact",
)


def _cell_text(text: str) -> str:
    """Touchpoints come from clients: keep a spreadsheet from reading one as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(cells: list[Cell]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for c in cells:
        writer.writerow(
            [
                _cell_text(c.touchpoint),
                c.sessions,
                *(round(c.state_share[s], 4) for s in CX_STATES),
                round(c.negative_share, 4),
                round(c.frustration_per_session, 4),
                round(c.sessions_with_frustration, 4),
                round(c.dropout_rate, 4),
                round(c.impact, 3),
            ]
        )
    return buf.getvalue()
