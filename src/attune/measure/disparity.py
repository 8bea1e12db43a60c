"""Decision disparity: do people in one group get escalated, have offers paused or see a
journey mode more often than people in another?

Per group field (language, channel, device, use case, customer type, and any field the company
sends in ``context.groups``) and per group: the share of sessions escalated to a human, the share
with offers paused, and the share that saw each adaptive mode, each with a Wilson interval.
Groups smaller than ``min_group`` sessions are listed, not compared. A gap between the highest
and the lowest compared group larger than ``bound`` (absolute, e.g. 0.10 = ten points) is
flagged, with the two-proportion test's p-value so a reader can tell a gap from noise. A gap is
a question for the playbook's owners, not proof of unfairness: groups can differ in what they
need (a flagged gap names the groups so someone looks).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from attune.measure.stats import two_proportion_test


@dataclass(frozen=True)
class DecisionRecord:
    session_id: str
    groups: dict[str, str]
    escalated: bool = False
    offers_paused: bool = False
    modes: frozenset[str] = field(default_factory=frozenset)


def _rate(k: int, n: int, alpha: float) -> dict[str, Any]:
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return {"rate": k / n, "ci": (float(lo), float(hi)), "k": k}


def _measures(records: Sequence[DecisionRecord]) -> dict[str, list[bool]]:
    modes = sorted({m for r in records for m in r.modes if m != "standard"})
    out: dict[str, list[bool]] = {
        "escalation": [r.escalated for r in records],
        "offers_paused": [r.offers_paused for r in records],
    }
    for m in modes:
        out[f"mode:{m}"] = [m in r.modes for r in records]
    return out


def disparity(
    records: Iterable[DecisionRecord],
    bound: float = 0.1,
    min_group: int = 30,
    alpha: float = 0.05,
) -> dict[str, Any]:
    if not 0 < bound < 1:
        raise ValueError("the bound must lie in (0, 1)")
    rs = list(records)
    measures = _measures(rs)
    index = {r.session_id: i for i, r in enumerate(rs)}
    fields: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rs:
        for key, value in r.groups.items():
            fields[key][value].append(index[r.session_id])
    out_fields: dict[str, Any] = {}
    flags: list[dict[str, Any]] = []
    for key in sorted(fields):
        groups: dict[str, Any] = {}
        compared = {g: ix for g, ix in fields[key].items() if len(ix) >= min_group}
        for g, ix in sorted(fields[key].items()):
            n = len(ix)
            entry: dict[str, Any] = {"n": n}
            if n < min_group:
                entry["note"] = f"fewer than {min_group} sessions: not compared"
            for name, hits in measures.items():
                entry[name] = _rate(sum(hits[i] for i in ix), n, alpha)
            groups[g] = entry
        gaps: dict[str, Any] = {}
        if len(compared) >= 2:
            for name, hits in measures.items():
                rates = {g: sum(hits[i] for i in ix) / len(ix) for g, ix in compared.items()}
                hi_g = max(rates, key=lambda g: rates[g])
                lo_g = min(rates, key=lambda g: rates[g])
                gap = rates[hi_g] - rates[lo_g]
                test = two_proportion_test(
                    sum(hits[i] for i in compared[lo_g]),
                    len(compared[lo_g]),
                    sum(hits[i] for i in compared[hi_g]),
                    len(compared[hi_g]),
                    alpha,
                    name,
                )
                p = test.p_value if math.isfinite(test.p_value) else 1.0
                flagged = gap > bound
                gaps[name] = {
                    "gap": gap,
                    "highest": hi_g,
                    "lowest": lo_g,
                    "p_value": p,
                    "flagged": flagged,
                }
                if flagged:
                    flags.append(
                        {
                            "field": key,
                            "measure": name,
                            "gap": gap,
                            "p_value": p,
                            "message": (
                                f"{name} differs by {100 * gap:.0f} points between {key} "
                                f"{hi_g!r} ({rates[hi_g]:.0%}) and {lo_g!r} ({rates[lo_g]:.0%}); "
                                f"bound {bound:.0%}, p = {p:.2g}"
                            ),
                        }
                    )
        out_fields[key] = {"groups": groups, "gaps": gaps}
    return {
        "sessions": len(rs),
        "bound": bound,
        "min_group": min_group,
        "fields": out_fields,
        "flags": flags,
        "note": "sessions on the adaptive journey only (control never adapts); a flagged gap "
        "is a question for the playbook's owners, not proof of unfair treatment",
    }
