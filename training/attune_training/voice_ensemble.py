"""Population head as a small calibrated ensemble, every choice made by inner speaker folds.

Members (RBF SVM scores, logistic regression, extremely randomised trees) share one subset of
the gain-invariant features. Each member's scores become log-probabilities (SVM: log-softmax of
its scores over a fitted temperature); the head's scores are their weighted sum. ``choose``
picks the feature subset, each member's regularisation and the weights from out-of-fold scores
of speaker folds inside the rows it is given, so a caller that scores other speakers (nested
outer folds, a left-out corpus) gets an honest figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attune.signals.voice.features import FEATURE_NAMES, N_FEATURES
from attune_training.voice_metrics import fit_temperature, speaker_folds, uar_of


def _drop(prefixes: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, n in enumerate(FEATURE_NAMES) if not n.startswith(prefixes))


# Candidate inputs. The 40-band mel means/stds describe the spectral envelope, which carries the
# microphone, room and language of a corpus as much as emotion; MFCCs summarise it more coarsely.
# "no_spectral_means" is per-utterance cepstral mean normalisation in effect: no mel or MFCC
# means (a fixed channel only shifts those), only their variation, deltas and prosody.
FEATURE_SETS: dict[str, tuple[int, ...]] = {
    "all": tuple(range(N_FEATURES)),
    "no_mel_mean": _drop(tuple(f"mel{k}_mean" for k in range(40))),
    "no_mel": _drop(("mel",)),
    "no_spectral_means": _drop(
        tuple(f"mel{k}_mean" for k in range(40)) + tuple(f"mfcc{k}_mean" for k in range(1, 13))
    ),
}
# Grid per member kind (SVM C, logistic-regression C; the trees are fixed).
GRIDS: dict[str, tuple[float, ...]] = {
    "svm": (0.3, 1.0, 3.0, 10.0),  # as the single-SVM head's grid
    "logreg": (0.01, 0.1),
    "trees": (120.0,),  # number of trees (fixed)
}
WEIGHT_STEP = 0.25  # ensemble weights on this simplex grid (coarse: inner UAR is noisy)


@dataclass
class Space:
    """What ``choose`` may pick from."""

    feature_sets: tuple[str, ...] = tuple(FEATURE_SETS)
    kinds: tuple[str, ...] = ("svm", "logreg", "trees")
    grids: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(GRIDS))
    balance_corpora: bool = True  # every (corpus, class) cell weighs the same in training
    seed: int = 0


@dataclass
class Recipe:
    """One fitted choice: feature subset, members, their temperatures and weights."""

    features: str
    kinds: list[str]
    params: list[float]
    temps: list[float]
    weights: list[float]
    temperature: float = 1.0  # on the weighted sum (log-loss fit on the inner scores)
    inner_uar: float = 0.0
    inner_table: dict[str, float] = field(default_factory=dict)
    models: list[Any] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "members": [
                {"kind": k, "param": p, "temperature": t, "weight": w}
                for k, p, t, w in zip(
                    self.kinds, self.params, self.temps, self.weights, strict=True
                )
            ],
            "temperature": self.temperature,
            "inner_uar": self.inner_uar,
            "inner_uar_by_choice": self.inner_table,
        }


def balance_weights(labels: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    """Row weights giving every (corpus, class) cell the same total weight (mean 1 over rows).

    Without it RAVDESS (3x the clips of EmoDB here) sets the decision boundaries."""
    key = np.char.add(np.asarray(corpus, str), np.asarray(labels, str))
    _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inv]
    return w * (len(w) / w.sum())


def make_member(kind: str, param: float, seed: int, weighted: bool) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    cw = None if weighted else "balanced"  # row weights already balance the classes
    if kind == "svm":
        return make_pipeline(
            StandardScaler(), SVC(C=param, gamma="scale", class_weight=cw, cache_size=500)
        )
    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=param, max_iter=3000))
    if kind == "trees":
        # Randomised trees: a different bias from the kernel and linear members, quick to fit and
        # exportable (skl2onnx 1.20 fails on this sklearn's HistGradientBoosting).
        return ExtraTreesClassifier(
            n_estimators=int(param),
            max_features="sqrt",
            min_samples_leaf=10,
            class_weight=cw,
            random_state=seed,
        )
    raise ValueError(f"unknown member kind {kind!r}")


def fit_member(
    kind: str, param: float, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, seed: int
) -> Any:
    """x: (variants, rows, F) with labels ``y`` per row; all variants are training rows."""
    model = make_member(kind, param, seed, w is not None)
    xs = x.reshape(-1, x.shape[-1])
    ys = np.tile(y, x.shape[0]).astype(str)
    if w is None:
        model.fit(xs, ys)
    else:
        key = model.steps[-1][0] + "__sample_weight" if hasattr(model, "steps") else "sample_weight"
        model.fit(xs, ys, **{key: np.tile(w, x.shape[0])})
    return model


def member_raw(model: Any, x: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Per-class scores in ``classes`` order: SVM decision values, else log-probabilities (a
    class the model lacks gets a very low score). Their log-softmax over T is the member's
    contribution."""
    if is_svm(model):
        z = np.asarray(model.decision_function(x), np.float64)
    else:
        z = np.log(np.clip(model.predict_proba(x), 1e-9, 1.0))
    have = [str(c) for c in model.classes_]
    out = np.full((len(x), len(classes)), -30.0)
    for j, c in enumerate(classes):
        if c in have:
            out[:, j] = z[:, have.index(c)]
    return out


def log_softmax(z: np.ndarray, t: float = 1.0) -> np.ndarray:
    s = z / t
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def is_svm(model: Any) -> bool:
    return type(model.steps[-1][1]).__name__ == "SVC" if hasattr(model, "steps") else False


def _weight_grid(n: int) -> list[tuple[float, ...]]:
    steps = round(1 / WEIGHT_STEP)
    grid = [
        tuple(k * WEIGHT_STEP for k in ks)
        for ks in itertools.product(range(steps + 1), repeat=n)
        if sum(ks) == steps
    ]
    # Most even weights first: ties in inner UAR go to the least committal mix.
    return sorted(grid, key=lambda w: float(np.var(w)))


def _oof(
    kind: str,
    param: float,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    folds: list[tuple[np.ndarray, np.ndarray]],
    classes: Sequence[str],
    seed: int,
) -> np.ndarray:
    """Out-of-fold raw member scores (``member_raw``) on clean audio."""
    out = np.zeros((x.shape[1], len(classes)))
    for tr, te in folds:
        m = fit_member(kind, param, x[:, tr], y[tr], None if w is None else w[tr], seed)
        out[te] = member_raw(m, x[0, te], classes)
    return out


def choose(
    x: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    corpus: np.ndarray,
    classes: Sequence[str],
    space: Space,
    folds: int = 3,
    progress: Callable[[str], None] | None = None,
) -> Recipe:
    """Inner speaker folds choose features, member parameters and weights; then the chosen
    members are refitted on all rows given. x: (variants, rows, F) gain-invariant; variant 0
    clean; only labelled rows (``y`` in ``classes``)."""
    split = speaker_folds(np.asarray(speakers, dtype=object), folds)
    w = balance_weights(y, corpus) if space.balance_corpora else None
    y_idx = np.asarray([list(classes).index(t) for t in y])
    table: dict[str, float] = {}
    best: tuple[float, Recipe] | None = None
    for fs in space.feature_sets:
        xf = x[..., list(FEATURE_SETS[fs])]
        per_kind: list[tuple[float, float, np.ndarray]] = []  # (param, temp, scaled oof)
        for kind in space.kinds:
            cands = []
            for p in space.grids[kind]:
                z = _oof(kind, p, xf, y, w, split, classes, space.seed)
                u = uar_of(z, y, classes)
                table[f"{fs}/{kind}/{p:g}"] = round(u, 4)
                cands.append((u, p, z))
                if progress:
                    progress(f"{fs}/{kind}/{p:g}: {u:.3f}")
            u, p, z = max(cands, key=lambda c: c[0])  # ties: the first (smaller) value
            t = fit_temperature(z, y_idx)
            per_kind.append((p, t, log_softmax(z, t)))
        for wts in _weight_grid(len(space.kinds)):
            z = np.sum([wk * pk[2] for wk, pk in zip(wts, per_kind, strict=True)], axis=0)
            u = uar_of(z, y, classes)
            if best is None or u > best[0] + 1e-9:
                rec = Recipe(
                    fs,
                    list(space.kinds),
                    [pk[0] for pk in per_kind],
                    [pk[1] for pk in per_kind],
                    list(wts),
                    fit_temperature(z, y_idx),
                    round(u, 4),
                )
                best = (u, rec)
    assert best is not None
    rec = best[1]
    rec.inner_table = table
    return refit(rec, x, y, w, space.seed)


def refit(rec: Recipe, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, seed: int) -> Recipe:
    """Fit the recipe's members (weight > 0) on all given rows."""
    xf = x[..., list(FEATURE_SETS[rec.features])]
    rec.models = [
        fit_member(k, p, xf, y, w, seed) if wt > 0 else None
        for k, p, wt in zip(rec.kinds, rec.params, rec.weights, strict=True)
    ]
    return rec


def scores(rec: Recipe, x: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Ensemble scores (weighted sum of member log-probabilities; softmax over T = probs).

    x: (rows, all gain-invariant features)."""
    xf = x[..., list(FEATURE_SETS[rec.features])]
    z = np.zeros((len(x), len(classes)))
    for m, t, wt in zip(rec.models, rec.temps, rec.weights, strict=True):
        if m is not None and wt > 0:
            z += wt * log_softmax(member_raw(m, xf, classes), t)
    return z


def _outer(
    k: int,
    tr: np.ndarray,
    te: np.ndarray,
    x: np.ndarray,
    labels: np.ndarray,
    spk: np.ndarray,
    corpus: np.ndarray,
    classes: Sequence[str],
    space: Space,
    inner_folds: int,
) -> tuple[np.ndarray, np.ndarray, float, dict[str, Any]]:
    tr = tr[labels[tr] != ""]
    rec = choose(x[:, tr], labels[tr], spk[tr], corpus[tr], classes, space, inner_folds)
    z = np.stack([scores(rec, x[v, te], classes) for v in range(x.shape[0])])
    return te, z, rec.temperature, {"fold": k, **rec.summary()}


def nested(
    x: np.ndarray,
    labels: np.ndarray,
    speakers: np.ndarray,
    corpus: np.ndarray,
    classes: Sequence[str],
    space: Space,
    folds: int,
    inner_folds: int,
    workers: int = 1,
    outer_seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Nested speaker folds for the ensemble head (as ``voice_train.nested_cross_validate``):
    each outer fold's recipe is chosen by ``choose`` on its training speakers only.

    x: (variants, rows, F) gain-invariant; labels '' = not trained on. Returns scores
    (variants, rows, classes), each row's inner temperature and each fold's choice. Outer
    folds run in ``workers`` processes (same result for any number); ``outer_seed`` shuffles the
    speakers into the outer folds (``speaker_folds``); the inner folds stay deterministic."""
    from joblib import Parallel, delayed

    spk = np.asarray(speakers, dtype=object)
    out = np.zeros((x.shape[0], x.shape[1], len(classes)), np.float32)
    temps = np.ones(x.shape[1])
    jobs = (
        delayed(_outer)(k, tr, te, x, labels, spk, corpus, classes, space, inner_folds)
        for k, (tr, te) in enumerate(speaker_folds(spk, folds, outer_seed))
    )
    chosen: list[dict[str, Any]] = []
    for te, z, t, info in Parallel(n_jobs=workers)(jobs):
        out[:, te] = z
        temps[te] = t
        chosen.append(info)
    return out, temps, chosen


def describe(summary: dict[str, Any]) -> str:
    """One line for the model card: feature set, members with parameter and weight."""
    names = {"svm": "SVM C={:g}", "logreg": "logistic C={:g}", "trees": "{:g} extra trees"}
    parts = [
        names[m["kind"]].format(m["param"]) + f" x{m['weight']:g}"
        for m in summary["members"]
        if m["weight"] > 0
    ]
    return f"{summary['features']}: " + " + ".join(parts)
