"""Journey map: per step, how customers' states *change* on the way there ("where confused
turns into frustrated"), as transitions between consecutive steps, per channel.

A session's state at a step is the last confident state observed on that step; where nothing new
was observed it keeps the state it arrived with (the fused state persists), starting from
neutral. A session that abandons ends in ``dropped``. Steps are the pages at least ``min_share``
of sessions visit (at most ``max_steps``), ordered by where they typically come in a session;
rarer detours (help, terms) are left out and their states carried to the next step.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from attune.signals.taxonomy import NEGATIVE_STATES

DROPPED = "dropped"


@dataclass(frozen=True)
class JourneySession:
    session_id: str
    channel: str | None
    visits: list[str]  # steps in the order first visited
    states: dict[str, str] = field(default_factory=dict)  # step -> last confident state there
    dropped_at: str | None = None


def _steps(
    sessions: Sequence[JourneySession], max_steps: int, min_sessions: int, min_share: float
) -> list[str]:
    count: Counter[str] = Counter()
    position: dict[str, list[float]] = defaultdict(list)
    for s in sessions:
        for i, step in enumerate(s.visits):
            count[step] += 1
            position[step].append(i / max(1, len(s.visits) - 1))
    floor = max(min_sessions, min_share * len(sessions))
    top = [st for st, n in count.most_common(max_steps) if n >= floor]
    return sorted(top, key=lambda st: (sum(position[st]) / len(position[st]), st))


def _paths(s: JourneySession, steps: list[str]) -> list[tuple[str, str]]:
    keep = set(steps)
    state, path = "neutral", []
    for step in s.visits:
        state = s.states.get(step, state)
        if step in keep:
            path.append((step, state))
    return path


def journey(
    sessions: Sequence[JourneySession],
    max_steps: int = 8,
    min_sessions: int = 5,
    min_share: float = 0.2,
) -> dict[str, Any]:
    steps = _steps(sessions, max_steps, min_sessions, min_share)
    links: Counter[tuple[str, str, str, str]] = Counter()  # from step, state, to step, state
    at_step: dict[str, Counter[str]] = {st: Counter() for st in steps}
    for s in sessions:
        path = _paths(s, steps)
        for step, state in path:
            at_step[step][state] += 1
        for (a, sa), (b, sb) in pairwise(path):
            links[(a, sa, b, sb)] += 1
        if path and s.dropped_at is not None:
            last, state = path[-1]
            links[(last, state, DROPPED, DROPPED)] += 1
    table = []
    for st in steps:
        arrived = {k: n for k, n in links.items() if k[2] == st}
        n = sum(at_step[st].values())
        turns = [
            {"from": f"{a} ({sa})", "to_state": sb, "sessions": c}
            for (a, sa, _, sb), c in sorted(arrived.items(), key=lambda kv: -kv[1])
            if sa != sb
        ]
        worse = sum(
            c
            for (_, sa, _, sb), c in arrived.items()
            if sb in NEGATIVE_STATES and sa not in NEGATIVE_STATES
        )
        better = sum(
            c
            for (_, sa, _, sb), c in arrived.items()
            if sa in NEGATIVE_STATES and sb not in NEGATIVE_STATES
        )
        dropped = sum(c for k, c in links.items() if k[0] == st and k[2] == DROPPED)
        table.append(
            {
                "step": st,
                "sessions": n,
                "states": dict(at_step[st].most_common()),
                "turned_negative": worse,
                "recovered": better,
                "dropped_here": dropped,
                "turns": turns[:5],
            }
        )
    return {
        "steps": steps,
        "sessions": len(sessions),
        "rule": f"steps visited by at least {min_share:.0%} of sessions and {min_sessions} "
        f"sessions, at most {max_steps}",
        "table": table,
        "links": [
            {"from_step": a, "from_state": sa, "to_step": b, "to_state": sb, "sessions": c}
            for (a, sa, b, sb), c in sorted(links.items(), key=lambda kv: -kv[1])
        ],
    }


def journey_by_channel(
    sessions: Sequence[JourneySession],
    max_steps: int = 8,
    min_sessions: int = 5,
    channel: str | None = None,
) -> dict[str, Any]:
    """The map over all sessions (or one channel's) and one map per channel."""
    chosen = [s for s in sessions if channel is None or s.channel == channel]
    out = journey(chosen, max_steps, min_sessions)
    out["channel"] = channel
    by: dict[str, list[JourneySession]] = defaultdict(list)
    for s in chosen:
        by[s.channel or "(none)"].append(s)
    out["by_channel"] = (
        {c: journey(ss, max_steps, min_sessions) for c, ss in sorted(by.items())}
        if len(by) > 1
        else {}
    )
    return out
