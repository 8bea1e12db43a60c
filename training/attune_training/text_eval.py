"""Scoring the shipped text models on a labelled file, with the run-time thresholds.

Used by ``attune eval text-emotion`` / ``attune eval intent`` and by training (the model card's
dev figures come from this very code path, through the exported artifacts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from attune.signals.taxonomy import GROUPINGS
from attune.signals.text.encoder import Encoder
from attune.signals.text.models import UNKNOWN, TextModel
from attune_training import text_metrics as tm
from attune_training.text_data import Labelled, multi_hot

Progress = Callable[[int], None] | None


def _timed_features(
    encoder: Encoder, texts: list[str], progress: Progress, batch: int = 64
) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    feats = encoder.features(texts, batch=batch, on_batch=progress)
    return feats, time.perf_counter() - start


def _multi_scores(
    pred: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    grouped: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Macro-F1 over the labels and over each grouping. A grouping's predictions are
    ``grouped[name]`` where the model decides on groups itself, else the label decisions
    grouped (a text is in a group if any of its predicted labels maps there)."""
    out = {"macro_f1": round(tm.macro_f1(y, pred), 4)}
    for name, mapping in GROUPINGS.items():
        truth, _ = tm.group(y, labels, mapping)
        guess = grouped[name] if grouped and name in grouped else tm.group(pred, labels, mapping)[0]
        out[f"{name}_macro_f1"] = round(tm.macro_f1(truth, guess), 4)
    return out


def eval_emotion(
    model: TextModel, encoder: Encoder, data: Labelled, progress: Progress = None
) -> dict[str, Any]:
    labels = model.labels
    y = multi_hot(data, labels).astype(bool)
    feats, enc_s = _timed_features(encoder, data.texts, progress)
    start = time.perf_counter()
    probs = model.probs(feats, data.texts)
    total_s = enc_s + time.perf_counter() - start
    pred = model.labels_above(probs)
    peer_probs = model.peer_probs(data.texts)
    peer_pred = model.labels_above(peer_probs, peer=True)
    per_label = tm.f1_per_label(y, pred)
    out: dict[str, Any] = {
        "model": model.meta["name"],
        "version": model.version,
        "n": len(data),
        **_multi_scores(pred, y, labels, model.labels_above_by_group(probs)),
        "ece": round(tm.classwise_ece(probs, y), 4),
        "ece_note": "mean over the 28 labels of the binary ECE (15 bins), calibrated probs",
        "top_label_ece": round(tm.top_label_ece(probs, y.argmax(1)), 4),
        "ms_per_message": round(1000 * total_s / max(1, len(data)), 3),
        "ms_per_message_note": "batched (64, length-sorted), 1 onnxruntime thread",
        "per_label_f1": {lab: round(float(f), 4) for lab, f in zip(labels, per_label, strict=True)},
        "peer": {
            "name": f"TF-IDF {model.meta.get('tfidf', 'word 1-2-grams')} + one-vs-rest "
            "logistic regression, per-label thresholds tuned on "
            + model.meta.get("decisions_fitted_on", "dev"),
            **_multi_scores(peer_pred, y, labels),
            "ece": round(tm.classwise_ece(peer_probs, y), 4),
        },
    }
    return out


def eval_intent(
    model: TextModel,
    encoder: Encoder,
    data: Labelled,
    progress: Progress = None,
    groups: list[str] | None = None,
    routed: dict[int, tuple[str, np.ndarray]] | None = None,
    shared: Encoder | None = None,
) -> dict[str, Any]:
    """``routed``: rows another route read (row -> (answer or ``unknown``, probabilities in
    the pack's label order); the German rows, see ``text_lang_eval.routed_intents``). Their
    answers and probabilities replace the pack's, so every figure is the run time's.
    ``shared``: the shared encoder, for a pack with a cascade, scored as run time reads it:
    one message at a time, ``encoder`` only for the rows the quick stage is unsure of. (The
    int8 graphs quantize activations per batch, so a text's features shift with its batch
    mates: batching only the unsure rows together moved dev accuracy by up to 0.8 points.)"""
    labels = model.labels
    second: np.ndarray | None = None
    if model.cascade is not None and shared is not None:
        feats, enc_s = _timed_features(shared, data.texts, progress, batch=1)
        start = time.perf_counter()
        own = lambda sub: encoder.features(sub, batch=1)  # noqa: E731
        probs, second = model.cascade_probs(data.texts, feats, own)
    else:
        feats, enc_s = _timed_features(encoder, data.texts, progress)
        start = time.perf_counter()
        probs = model.probs(feats, data.texts)
    total_s = enc_s + time.perf_counter() - start
    gold = [labs[0] for labs in data.labels]
    pred = [lab for lab, _ in model.intents(probs)]
    for i, (lab, row) in (routed or {}).items():
        pred[i], probs[i] = lab, row
    peer = [lab for lab, _ in model.intents(model.peer_probs(data.texts), peer=True)]
    names = sorted(set(labels) | set(gold) | {UNKNOWN})
    col = {n: i for i, n in enumerate(names)}

    def scores(p: list[str]) -> dict[str, float]:
        g_idx = np.array([col[x] for x in gold])
        p_idx = np.array([col[x] for x in p])
        present = sorted(set(gold))  # macro over the labels present in the file
        f1 = tm.f1_per_label(tm.one_hot(g_idx, len(names)), tm.one_hot(p_idx, len(names)))
        return {
            "accuracy": round(float((g_idx == p_idx).mean()), 4),
            "macro_f1": round(float(np.mean([f1[col[x]] for x in present])), 4),
            "unknown_rate": round(p.count(UNKNOWN) / max(1, len(p)), 4),
        }

    gold_idx = np.array([labels.index(g) if g in labels else -1 for g in gold])
    out: dict[str, Any] = {
        "model": model.meta["name"],
        "version": model.version,
        "n": len(data),
        **scores(pred),
        "top1_accuracy": round(float((probs.argmax(1) == gold_idx).mean()), 4),
        "ece": round(tm.top_label_ece(probs, gold_idx), 4),
        "unknown_threshold": model.meta["unknown_threshold"],
        "ms_per_message": round(1000 * total_s / max(1, len(data)), 3),
        "peer": {
            "name": f"TF-IDF {model.meta.get('tfidf', 'word 1-2-grams')} + logistic regression",
            **scores(peer),
        },
    }
    if second is not None:
        out["second_pass_rate"] = round(float(second.mean()), 4)
        out["cascade_threshold"] = model.cascade.threshold if model.cascade else None
    if routed:
        out["routed_rows"] = len(routed)
    if groups is not None:
        out["error_rate_by_group"] = error_by_group(gold, pred, groups)
    return out


def error_by_group(gold: list[str], pred: list[str], groups: list[str]) -> dict[str, Any]:
    """Error rate per group value (a row may be in several groups, e.g. Bitext tag letters)."""
    acc: dict[str, list[int]] = {}
    for g, p, tags in zip(gold, pred, groups, strict=True):
        for tag in tags:
            acc.setdefault(tag, []).append(int(g != p))
    return {
        k: {"n": len(v), "error_rate": round(sum(v) / len(v), 4)} for k, v in sorted(acc.items())
    }
