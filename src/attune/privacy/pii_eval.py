"""Precision and recall of the PII redactor per entity type on a labelled JSONL file.

Two recalls per type: ``recall`` counts a labelled span as found when a predicted span of the
same type overlaps it; ``masked`` counts it when every character of it is redacted by any span
(what matters for privacy: a card number redacted as a phone number is still gone).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from attune.privacy.redaction import ENTITY_TYPES, Redactor, Span


def load(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            _ = row["text"], row["entities"]
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}:{n}: not a labelled example ({exc})") from exc
        rows.append(row)
    return rows


def _overlaps(a: Span | dict[str, Any], start: int, end: int) -> bool:
    s, e = (a.start, a.end) if isinstance(a, Span) else (a["start"], a["end"])
    return s < end and start < e


def evaluate(rows: Iterable[dict[str, Any]], redactor: Redactor) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    masked: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    pred_tp: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    n, elapsed, times = 0, 0.0, []
    for row in rows:
        text, gold = row["text"], row["entities"]
        t0 = time.perf_counter()
        spans = redactor.find(text, row.get("locale"))
        times.append(time.perf_counter() - t0)
        elapsed += times[-1]
        n += 1
        for g in gold:
            kind = g["type"]
            if any(p.type == kind and _overlaps(p, g["start"], g["end"]) for p in spans):
                tp[kind] += 1
            else:
                fn[kind] += 1
                misses.append({"type": kind, "value_shape": _shape(text[g["start"] : g["end"]])})
            covered: set[int] = set()
            for p in spans:
                covered.update(range(max(p.start, g["start"]), min(p.end, g["end"])))
            if len(covered) == g["end"] - g["start"]:
                masked[kind] += 1
        for p in spans:
            if any(g["type"] == p.type and _overlaps(g, p.start, p.end) for g in gold):
                pred_tp[p.type] += 1
            else:
                fp[p.type] += 1
    per_type = {}
    for kind in ENTITY_TYPES:
        gold_n = tp[kind] + fn[kind]
        pred_n = pred_tp[kind] + fp[kind]
        per_type[kind] = {
            "support": gold_n,
            "predicted": pred_n,
            "precision": round(pred_tp[kind] / pred_n, 4) if pred_n else None,
            "recall": round(tp[kind] / gold_n, 4) if gold_n else None,
            "masked": round(masked[kind] / gold_n, 4) if gold_n else None,
            "false_positives": fp[kind],
        }
    return {
        "examples": n,
        "engine": redactor.engine,
        "names": redactor.names,
        "ms_per_message": round(1000 * elapsed / max(n, 1), 3),
        "ms_p50": _quantile_ms(times, 0.5),
        "ms_p95": _quantile_ms(times, 0.95),
        "per_type": per_type,
        "misses": misses[:50],
    }


def _quantile_ms(times: list[float], q: float) -> float | None:
    if not times:
        return None
    ordered = sorted(times)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _shape(value: str) -> str:
    """The form of a missed value without the value itself (digits -> 9, letters -> a/A)."""
    out = []
    for ch in value:
        out.append("9" if ch.isdigit() else "A" if ch.isupper() else "a" if ch.isalpha() else ch)
    return "".join(out)
