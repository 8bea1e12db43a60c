"""Population-normalised features for the voice population head, measured against the shipped
procedure by nested speaker folds and leave one corpus out (measurement only; nothing ships).

A = the shipped procedure: one RBF SVM on the shipped variants, one scaler fitted on all
training rows. B = the same SVM on features standardised within their *population*: each
training (corpus, variant) by its own mean and spread, and each scored set (the held-out
speakers of one corpus, through one channel) by its own, without labels. B is what a deployment
could do with a profile of its own unlabelled traffic (channel, microphones, language); the
caller's running baseline already does this per speaker.

Rule, fixed before the run: B is a lead worth building into the runtime only if its mean clean
nested UAR is at least A's + 0.005, its per-sex gap is smaller and its leave-one-corpus-out
mean is higher (``voice_compare.decide`` with a positive margin)::

    python -m attune_training.voice_population --data R.csv --data E.csv --cache FEATS.npz \\
        --seeds 201,202,203 --out population.json
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from attune_training import voice_compare as vc
from attune_training import voice_ensemble as ve
from attune_training import voice_metrics as vm
from attune_training.voice_data import DataError


def standardise(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """x (variants, rows, F): each variant's rows of each group by their own mean and spread."""
    out = np.empty_like(x)
    for g in dict.fromkeys(groups.tolist()):
        m = groups == g
        part = x[:, m]
        out[:, m] = (part - part.mean(axis=1, keepdims=True)) / (
            part.std(axis=1, keepdims=True) + 1e-6
        )
    return out


def _fit_score(
    d: vc.Dataset,
    variants: Sequence[str],
    tr: np.ndarray,
    te: np.ndarray,
    population: bool,
    inner: int,
) -> np.ndarray:
    """Scores (tests, rows of ``te``, classes) of an SVM trained on ``variants`` of ``tr``, its C
    chosen by inner speaker folds there; ``te`` scored through each of ``vc.TESTS``."""
    x_tr = d.take(variants)[:, tr]
    if population:
        x_tr = standardise(x_tr, d.corpus[tr])
    rec = ve.choose(
        x_tr, d.labels[tr], d.speakers[tr], d.corpus[tr], d.classes, vc.svm_space(), inner
    )
    out = []
    for t in vc.TESTS:
        x_te = d.x[d.variants.index(t)][te]
        if population:
            x_te = standardise(x_te[None], d.corpus[te])[0]
        out.append(ve.scores(rec, x_te, d.classes))
    return np.stack(out)


def nested_repeat(
    d: vc.Dataset, variants: Sequence[str], seed: int, population: bool, folds: int, inner: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One repeat: outer speaker folds shuffled by ``seed``; figures and predictions per test."""
    names = np.asarray(d.classes, dtype=object)
    preds = {t: np.empty(len(d.labels), dtype=object) for t in vc.TESTS}
    for tr, te in vm.speaker_folds(d.speakers, folds, seed):
        z = _fit_score(d, variants, tr, te, population, inner)
        for i, t in enumerate(vc.TESTS):
            preds[t][te] = names[z[i].argmax(axis=1)]
    return {"seed": seed, **vc.figures(d, preds)}, preds


def loco(d: vc.Dataset, variants: Sequence[str], population: bool, inner: int) -> dict[str, Any]:
    """Train on all corpora but one, score the left-out one (clean and phone)."""
    out: dict[str, Any] = {}
    for held in sorted(set(d.corpus.tolist())):
        tr, te = np.flatnonzero(d.corpus != held), np.flatnonzero(d.corpus == held)
        z = _fit_score(d, variants, tr, te, population, inner)
        out[held] = {
            t: round(vm.uar_of(z[i], d.labels[te], d.classes), 4) for i, t in enumerate(vc.TESTS)
        }
    out["mean"] = round(float(np.mean([v["clean"] for v in out.values()])), 4)
    return out


def compare(
    d: vc.Dataset,
    variants: Sequence[str],
    seeds: Sequence[int],
    folds: int = 5,
    inner: int = 3,
    log: Any = None,
) -> dict[str, Any]:
    def arm(population: bool) -> vc.Arm:
        return vc.Arm(
            lambda s: nested_repeat(d, variants, s, population, folds, inner),
            lambda: loco(d, variants, population, inner),
        )

    rep: dict[str, Any] = {"variants": list(variants), "seeds": list(seeds), "folds": folds}
    rep.update(vc.run_arms(d, arm(False), arm(True), seeds, log))
    rep["decision"] = vc.decide(rep["A"], rep["B"], margin=-0.005)
    return rep


def main(argv: Sequence[str] | None = None) -> None:
    ap = vc.parser(__doc__, "201,202,203")
    ap.add_argument("--variants", default=",".join(vc.SHIPPED_VARIANTS))
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    variants = tuple(args.variants.split(","))
    try:
        d = vc.load(args.data, args.cache, args.workers, (*dict.fromkeys((*variants, *vc.TESTS)),))
    except DataError as exc:  # a missing or malformed table: say which, no traceback
        sys.exit(f"error: {exc}")
    rep = compare(
        d, variants, [int(s) for s in args.seeds.split(",")], args.folds,
        log=lambda m: print(m, flush=True),
    )  # fmt: skip
    vc.report(rep, args.out)


if __name__ == "__main__":
    main()
