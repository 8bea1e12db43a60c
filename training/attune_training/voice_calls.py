"""Simulated calls: does the caller's running baseline help, speaker-independently?

For each fold (split by speaker) the speaker head is trained on the other speakers (the
population head's scores are the nested report's out-of-fold ones, same folds); each held-out
speaker's clips are then played in a random order as one "call", and every clip is scored the way
the live analyzer scores a window: population head alone at first, then blended with the speaker
head on features minus the caller's running mean (``Baseline``, shrunk to the population mean),
with the analyzer's own blend weights. Clips of every emotion feed the baseline, as in a real call.
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
                    out["blend"].append(classes[int(((1 - weight) * p + weight * q).argmax())])
                    out["corpus"].append(rows[i].corpus)
                    out["sex"].append(rows[i].gender)
                base.update(vec, _NO_PROSODY)
        if progress:
            progress()
    return {
        "population_only": _figures(out, "population", cfg.classes),
        "with_baseline": _figures(out, "blend", cfg.classes),
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
