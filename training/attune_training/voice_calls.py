"""Simulated calls: does the caller's running baseline help, speaker-independently?

For each fold (split by speaker) the speaker head is trained on the other speakers (the
population head's scores are the nested report's out-of-fold ones, same folds); each held-out
speaker's clips are then played in a random order as one "call", and every clip is scored the way
the live analyzer scores a window: population head alone at first, then blended with the speaker
head on features minus the caller's running mean (``Baseline``, shrunk to the population mean),
with the analyzer's own blend weights. Clips of every emotion feed the baseline, as in a real call.

Averaging two heads that disagree lowers the top probability, so the blended readings are
recalibrated by one temperature (``blend_calibration``): fitted on every fold's calls for the
shipped model, and cross-fitted for the reported ECE (each fold's readings by a temperature
fitted on the other folds' calls only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from attune.signals.voice.baseline import Baseline
from attune.signals.voice.features import Prosody
from attune_training import voice_metrics as vm
from attune_training.voice_data import Row
from attune_training.voice_metrics import speaker_folds
from attune_training.voice_train import (
    TrainConfig,
    fit,
    head_inputs,
    logits,
    softmax,
    training_labels,
)

_NO_PROSODY = Prosody(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0)


def simulate(
    x: np.ndarray,
    rows: list[Row],
    cfg: TrainConfig,
    pop_oof: tuple[np.ndarray, np.ndarray],
    c_speaker: list[float],
    t_speaker: list[float],
    progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """UAR of population-only vs baseline-blended scoring over simulated calls (clean audio).

    ``pop_oof``: the population head's nested out-of-fold scores on clean audio (rows,
    classes in sorted order) and each row's temperature; C and temperature of the speaker head
    per outer fold as the nested report's inner folds chose them."""

    from attune.signals.voice.emotion import speaker_weight

    spk = np.asarray([r.speaker or f"row{i}" for i, r in enumerate(rows)], dtype=object)
    truth = np.asarray([r.emotion for r in rows], dtype=object)
    labels = training_labels([r.emotion for r in rows], cfg)
    heads = head_inputs(x, [r.speaker for r in rows])
    rng = np.random.default_rng(cfg.seed)
    out: dict[str, list[str]] = {k: [] for k in ("truth", "population", "blend", "corpus", "sex")}
    blended: list[tuple[int, np.ndarray, int]] = []  # (fold, blended probs, true class index)
    classes = sorted(c for c in cfg.classes if np.any(labels == c))  # pop_oof's class order
    for k, (tr, _te) in enumerate(speaker_folds(spk, cfg.folds)):
        spk_head = fit(heads["speaker"][0][:, tr], labels[tr], cfg, c_speaker[k])
        t_spk = t_speaker[k]
        cols = [classes.index(str(c)) for c in spk_head.classes_]
        train_spk = sorted(set(spk[tr].tolist()))
        population = np.mean([x[0][spk == s].mean(axis=0) for s in train_spk], axis=0)
        for s in sorted(set(spk.tolist()) - set(train_spk)):
            idx = np.flatnonzero(spk == s)
            base = Baseline()
            for i in idx[rng.permutation(len(idx))]:
                vec = x[0, i]
                weight = speaker_weight(base.n)
                p = softmax(pop_oof[0][i][None], float(pop_oof[1][i]))[0]
                ref = base.reference(population.astype(np.float32))
                q = np.zeros(len(classes))
                q[cols] = softmax(logits(spk_head, (vec - ref)[None]), t_spk)[0]
                if truth[i] in classes:
                    out["truth"].append(str(truth[i]))
                    out["population"].append(classes[int(p.argmax())])
                    mix = (1 - weight) * p + weight * q
                    out["blend"].append(classes[int(mix.argmax())])
                    if weight > 0:  # the first window is the population head alone
                        blended.append((k, mix, classes.index(str(truth[i]))))
                    out["corpus"].append(rows[i].corpus)
                    out["sex"].append(rows[i].gender)
                base.update(vec, _NO_PROSODY)
        if progress:
            progress()
    return {
        "population_only": _figures(out, "population", cfg.classes),
        "with_baseline": _figures(out, "blend", cfg.classes),
        "blend_calibration": blend_calibration(blended),
    }


def blend_calibration(blended: list[tuple[int, np.ndarray, int]]) -> dict[str, Any]:
    """One temperature for the blended probabilities (softmax(log p / T)): ``temperature`` is
    fitted on all the calls (what ships); the ECE after it is cross-fitted over the folds."""
    if not blended:
        return {}
    fold = np.asarray([b[0] for b in blended])
    logp = np.log(np.clip(np.stack([b[1] for b in blended]), 1e-9, 1.0))
    y = np.asarray([b[2] for b in blended])
    folds = sorted(set(fold.tolist()))
    if len(folds) < 2:  # one fold only: nothing to fit on without its own readings
        return {"n": len(y), "ece": vm.ece(np.exp(logp), y)}
    crossed = np.exp(logp)
    by_fold: list[float] = []
    for k in folds:
        rest = fold != k
        t = vm.fit_temperature(logp[rest], y[rest])
        by_fold.append(t)
        crossed[fold == k] = softmax(logp[fold == k], t)
    return {
        "n": len(y),
        "ece": vm.ece(np.exp(logp), y),
        "mean_top_p": round(float(np.exp(logp).max(axis=1).mean()), 4),
        "accuracy": round(float((logp.argmax(axis=1) == y).mean()), 4),
        "temperature": vm.fit_temperature(logp, y),
        "temperature_by_fold": by_fold,
        "ece_cross_fitted": vm.ece(crossed, y),
        "mean_top_p_cross_fitted": round(float(crossed.max(axis=1).mean()), 4),
    }


def _figures(out: dict[str, list[str]], key: str, classes: tuple[str, ...]) -> dict[str, Any]:
    """Scores overall, UAR per corpus and per sex, and the per-sex gap."""
    truth, pred = out["truth"], out[key]
    corpus = vm.by_group(truth, pred, out["corpus"], list(classes))
    sex = vm.by_group(truth, pred, out["sex"], list(classes))
    return {
        **vm.scores(truth, pred, list(classes)),
        "uar_by_corpus": {k: v["uar"] for k, v in corpus.items()},
        "uar_by_sex": {k: v["uar"] for k, v in sex.items()},
        "sex_gap": vm.sex_gap(sex),
    }
