"""``attune eval sentiment`` and ``attune eval cx-state``: the routed run-time reading (language
ID, then today's English model or the multilingual route, unsupported languages unread)
scored on a labelled CSV, overall and per language.

A row the reading could not read (an unsupported language) counts as a wrong answer and in
``uncertain_share``: an honest "I cannot read this" is still not the customer's state.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.taxonomy import CX_STATES

SENTIMENT_LABELS = ("negative", "neutral", "positive")
UNCERTAIN = "uncertain"


class DataError(ValueError):
    """The file cannot be scored (missing, not UTF-8, wrong columns, bad labels)."""


def read_csv(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    if not rows:
        raise DataError(f"{path}: no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise DataError(f"{path}: missing column {missing[0]!r} (need {', '.join(columns)})")
    return rows


def scores(gold: list[str], pred: list[str], labels: Sequence[str]) -> dict[str, Any]:
    """accuracy, macro-F1 over ``labels`` and per-class precision/recall/F1/support."""
    per: dict[str, dict[str, float]] = {}
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[lab] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    present = [lab for lab in labels if per[lab]["support"]] or list(labels)
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, n), 4),
        "macro_f1": round(sum(per[lab]["f1"] for lab in present) / len(present), 4),
        "per_class": per,
        "uncertain_share": round(pred.count(UNCERTAIN) / max(1, n), 4),
    }


def _readings(texts: list[str]) -> list[Any]:
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts

    return read_texts(load_models(("customer_service",)), texts)


def _check(rows: list[dict[str, str]], column: str, allowed: Sequence[str]) -> list[str]:
    gold = [(r.get(column) or "").strip().lower() for r in rows]
    bad = sorted({g for g in gold if g not in allowed})
    if bad:
        raise DataError(f"unknown {column} {bad[0]!r} (use {', '.join(allowed)})")
    return gold


def eval_sentiment(path: Path) -> dict[str, Any]:
    rows = read_csv(path, ("text", "label"))
    gold = _check(rows, "label", SENTIMENT_LABELS)
    readings = _readings([r["text"] or "" for r in rows])
    pred = [UNCERTAIN if r.uncertain else r.sentiment_label for r in readings]
    return scores(gold, pred, SENTIMENT_LABELS)


def cx_prediction(reading: Any) -> str:
    if reading.uncertain or not reading.cx:
        return UNCERTAIN
    return str(max(reading.cx, key=lambda s: reading.cx[s]))


def eval_cx_state(path: Path) -> dict[str, Any]:
    rows = read_csv(path, ("text", "state"))
    gold = _check(rows, "state", CX_STATES)
    readings = _readings([r["text"] or "" for r in rows])
    pred = [cx_prediction(r) for r in readings]
    langs = [
        (row.get("lang") or "").strip().lower() or (reading.lang or "und")
        for row, reading in zip(rows, readings, strict=True)
    ]
    out = scores(gold, pred, CX_STATES)
    by_lang: dict[str, Any] = {}
    for lang in sorted(set(langs)):
        idx = [i for i, x in enumerate(langs) if x == lang]
        part = scores([gold[i] for i in idx], [pred[i] for i in idx], CX_STATES)
        by_lang[lang] = {k: part[k] for k in ("n", "accuracy", "macro_f1", "uncertain_share")}
    out["by_lang"] = by_lang
    return out


def routed_intents(
    pack: str, texts: list[str], labels: Sequence[str]
) -> dict[int, tuple[str, Any]]:
    """Intent answers and probabilities (in the order of ``labels``, the pack's) for the rows
    the run time sends to the multilingual route, by row; {} when there are none or the route
    has no head for ``pack``. English rows are left to the pack as before."""
    from attune.models.runtime import ModelNotFound
    from attune.signals.text.langid import detect
    from attune.signals.text.models import UNKNOWN
    from attune.signals.text.multilingual import load_multilingual

    rows = [i for i, t in enumerate(texts) if detect(t).route not in ("en", "unsupported")]
    if not rows:
        return {}
    try:
        ml = load_multilingual()
    except ModelNotFound:
        return {}
    probs = ml.intent_probs(pack, ml.encoder.features([texts[i] for i in rows]))
    head = ml.pack_head(pack)
    if probs is None or head is None:
        return {}
    order = [head.labels.index(lab) if lab in head.labels else -1 for lab in labels]
    aligned = np.where(np.array(order) >= 0, probs[:, order], 0.0)
    answers = ml.intents(pack, probs)
    return {
        i: (lab or UNKNOWN, aligned[k])
        for k, (i, (lab, _)) in enumerate(zip(rows, answers, strict=True))
    }
