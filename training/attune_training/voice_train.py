"""Train the speech-emotion model: speaker-normalised prosodic features -> scaler + classifier,
exported to ONNX with skl2onnx. Speaker-independent cross-validation (folds by speaker).

Per-speaker normalisation: every training clip's features minus the mean of that speaker's clips
(and of the same augmentation variant). At run time the caller's running baseline plays that role.
Rows without a speaker are normalised by the population mean only.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.features import FEATURE_NAMES, N_FEATURES, gain_invariant
from attune_training.voice_metrics import speaker_folds, uar_of

DEFAULT_CLASSES = ("anger", "disgust", "fear", "happy", "neutral", "sad")
# Training variants of every clip (voice_data.AUGMENTS); the held-out clips are scored clean,
# through the telephone band and with noise. Order matters: each row's generator is drawn in it.
AUGMENTED = ("clean", "phone", "noise", "speed", "reverb", "pitch", "tempo", "phone_noise")


@dataclass
class TrainConfig:
    classes: tuple[str, ...] = DEFAULT_CLASSES
    kind: str = "svm"  # svm | logreg | mlp (the speaker head, and the population head if "svm")
    # Population head: "svm" (the single SVM of `kind`) or "ensemble" (voice_ensemble: features,
    # members and weights chosen by inner speaker folds). The ensemble was measured and not
    # shipped (no honest gain over the SVM: see the model card, issue 21), so "svm" stays default.
    population: str = "svm"
    # C of each head: chosen from its grid by speaker folds (inner folds inside each outer fold
    # for the reported figures; speaker folds over all training speakers for the shipped model).
    c_grid_population: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
    c_grid_speaker: tuple[float, ...] = (0.3, 1.0, 3.0)
    # Take the smallest C (most regularised) whose speaker-folds UAR is within this of the best
    # (0: the best, ties to the smaller C). 0.01 was tried: nested RAVDESS UAR 0.619 against
    # 0.631 with 0 (compared on the outer folds, see the model card).
    c_tolerance: float = 0.0
    variants: tuple[str, ...] = AUGMENTED
    folds: int = 6
    inner_folds: int = 3
    seed: int = 0
    workers: int = 1  # processes for feature extraction (same features whatever the number)
    extra_labels: dict[str, str] = field(default_factory=dict)  # e.g. {"calm": "neutral"}


def speaker_norm(x: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Subtract each group's mean along the row axis (-2); return it and the population mean.

    The population mean is the mean of the group means, used for callers without a baseline."""
    g = np.asarray(groups, dtype=object)
    out = np.empty_like(x)
    means = []
    for value in dict.fromkeys(g.tolist()):
        m = g == value
        mu = x[..., m, :].mean(axis=-2, keepdims=True)
        out[..., m, :] = x[..., m, :] - mu
        means.append(mu.reshape(-1, x.shape[-1]).mean(axis=0))
    return out, np.mean(means, axis=0).astype(np.float32)


def make_classifier(cfg: TrainConfig, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if cfg.kind == "svm":
        # Scores, not Platt probabilities: 5x cheaper to fit; softmax(scores / T) with T fitted
        # on the speaker folds gives the probabilities (see voice_run and prosody.emotion).
        clf: Any = SVC(C=c, gamma="scale", class_weight="balanced", decision_function_shape="ovr")
    elif cfg.kind == "logreg":
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    elif cfg.kind == "mlp":
        clf = MLPClassifier(
            hidden_layer_sizes=(128,),
            alpha=c,
            max_iter=300,
            random_state=cfg.seed,
            early_stopping=True,
        )
    else:
        raise ValueError(f"unknown classifier kind {cfg.kind!r} (svm, logreg, mlp)")
    return make_pipeline(StandardScaler(), clf)


def training_labels(emotions: Sequence[str], cfg: TrainConfig) -> np.ndarray:
    """Label per row for training ('' = not used)."""
    out = []
    for e in emotions:
        e = cfg.extra_labels.get(e, e)
        out.append(e if e in cfg.classes else "")
    return np.asarray(out, dtype=object)


def fit(x: np.ndarray, labels: np.ndarray, cfg: TrainConfig, c: float) -> Any:
    """x: (variants, rows, F) speaker-normalised; labels per row ('' rows are skipped)."""
    use = labels != ""
    xs = x[:, use].reshape(-1, x.shape[-1])
    ys = np.tile(labels[use], x.shape[0]).astype(str)
    if len(set(ys)) < 2:
        raise ValueError("training needs at least two emotion classes with examples")
    clf = make_classifier(cfg, c)
    clf.fit(xs, ys)
    return clf


def logits(clf: Any, x: np.ndarray) -> np.ndarray:
    """Per-class scores whose softmax is the prediction (SVM scores, or log-probabilities)."""
    if hasattr(clf, "decision_function") and not hasattr(clf, "predict_proba"):
        s = np.asarray(clf.decision_function(x), np.float64)
        return s if s.ndim == 2 else np.stack([-s, s], axis=1)  # binary: one score
    return np.log(np.clip(clf.predict_proba(x), 1e-9, 1.0))


def softmax(z: np.ndarray, t: float = 1.0) -> np.ndarray:
    e = np.exp((z - z.max(axis=1, keepdims=True)) / t)
    return e / e.sum(axis=1, keepdims=True)


def cross_validate(
    x: np.ndarray,
    labels: np.ndarray,
    speakers: Sequence[str] | np.ndarray,
    cfg: TrainConfig,
    c: float | Sequence[float],
    progress: Callable[[], None] | None = None,
    folds: int | None = None,
    classes: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold class scores (logits) for every row and test variant (folds by speaker).

    x: (variants, rows, F) head inputs; ``c`` one value, or one per fold. Returns (variants,
    rows, classes) and the class order; a class missing from a training fold gets a very low
    score."""
    spk = np.asarray(speakers, dtype=object)
    classes = list(classes) if classes else sorted(c for c in cfg.classes if np.any(labels == c))
    out = np.zeros((x.shape[0], x.shape[1], len(classes)), np.float32)
    for k, (tr, te) in enumerate(speaker_folds(spk, folds or cfg.folds)):
        c_k = float(c) if isinstance(c, int | float) else float(c[k])
        clf = fit(x[:, tr], labels[tr], cfg, c_k)
        order = [list(clf.classes_).index(c) if c in clf.classes_ else -1 for c in classes]
        for v in range(x.shape[0]):
            z = logits(clf, x[v, te])
            out[v][np.ix_(te, np.arange(len(classes)))] = np.where(
                np.asarray(order) >= 0, z[:, np.maximum(order, 0)], -50.0
            )
        if progress:
            progress()
    return out, classes


@dataclass
class Selection:
    c: float
    uar_by_c: dict[float, float]
    temperature: float  # log-loss temperature on the out-of-fold scores of the chosen C
    oof: np.ndarray  # (variants, rows, classes) out-of-fold scores of the chosen C


def select_c(
    x: np.ndarray,
    labels: np.ndarray,
    speakers: Sequence[str] | np.ndarray,
    cfg: TrainConfig,
    grid: Sequence[float],
    folds: int,
    classes: Sequence[str],
) -> Selection:
    """The smallest C of ``grid`` whose speaker-folds UAR (clean audio, rows with a label) is
    within ``cfg.c_tolerance`` of the best C's."""
    from attune_training.voice_metrics import fit_temperature

    use = labels != ""
    uar_by_c: dict[float, float] = {}
    oof: dict[float, np.ndarray] = {}
    for c in sorted(grid):
        z, _ = cross_validate(x, labels, speakers, cfg, c, folds=folds, classes=classes)
        uar_by_c[float(c)] = round(uar_of(z[0][use], labels[use], classes), 4)
        oof[float(c)] = z
    top = max(uar_by_c.values())
    chosen = min(c for c, u in uar_by_c.items() if u >= top - cfg.c_tolerance)
    y = np.asarray([list(classes).index(t) for t in labels[use]])
    temp = fit_temperature(oof[chosen][0][use], y)
    return Selection(chosen, uar_by_c, temp, oof[chosen])


def nested_cross_validate(
    x: np.ndarray,
    labels: np.ndarray,
    speakers: Sequence[str],
    cfg: TrainConfig,
    grid: Sequence[float],
    progress: Callable[[], None] | None = None,
    only_folds: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[dict[str, Any]]]:
    """Nested speaker-independent scores: in each outer speaker fold, inner speaker folds over
    the outer training speakers choose C and the temperature; the outer fold is then scored by
    a model fitted on all its training speakers with that C. No choice sees the scored rows.

    Returns out-of-fold logits (variants, rows, classes), the inner temperature per row, the
    class order and what each fold chose. ``only_folds``: score those outer folds only (to
    split the work between processes; the other rows stay zero)."""
    spk = np.asarray(speakers, dtype=object)
    classes = sorted(c for c in cfg.classes if np.any(labels == c))
    out = np.zeros((x.shape[0], x.shape[1], len(classes)), np.float32)
    temps = np.ones(x.shape[1], np.float64)
    chosen: list[dict[str, Any]] = []
    for k, (tr, te) in enumerate(speaker_folds(spk, cfg.folds)):
        if only_folds is not None and k not in only_folds:
            continue
        sel = select_c(x[:, tr], labels[tr], spk[tr], cfg, grid, cfg.inner_folds, classes)
        clf = fit(x[:, tr], labels[tr], cfg, sel.c)
        order = [list(clf.classes_).index(c) if c in clf.classes_ else -1 for c in classes]
        for v in range(x.shape[0]):
            z = logits(clf, x[v, te])
            out[v][np.ix_(te, np.arange(len(classes)))] = np.where(
                np.asarray(order) >= 0, z[:, np.maximum(order, 0)], -50.0
            )
        temps[te] = sel.temperature
        chosen.append(
            {"fold": k, "c": sel.c, "inner_uar_by_c": sel.uar_by_c, "temperature": sel.temperature}
        )
        if progress:
            progress()
    return out, temps, classes, chosen


def head_inputs(x: np.ndarray, speakers: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Model input per head, and the population mean the speaker head falls back to."""
    spk = [s or "?" for s in speakers]  # rows without a speaker form one group
    xs, pop = speaker_norm(x, spk)
    return {"population": (gain_invariant(x), pop * 0), "speaker": (xs, pop)}


HEAD_FILES = {"population": "model.onnx", "speaker": "model_spk.onnx"}


def export_onnx(clf: Any, path: Path) -> None:
    from skl2onnx import to_onnx

    with warnings.catch_warnings():
        # skl2onnx reads SVC.probA_/probB_, deprecated in sklearn 1.9 (we use no Platt scaling).
        warnings.filterwarnings("ignore", message=".*prob[AB]_.*", category=FutureWarning)
        onx = to_onnx(
            clf,
            np.zeros((1, N_FEATURES), np.float32),
            options={id(clf.steps[-1][1]): {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    path.write_bytes(onx.SerializeToString())


def write_artifact(
    out_dir: Path, heads: dict[str, Any], population: np.ndarray, meta: dict[str, Any], card: str
) -> None:
    """model.onnx (population head), model_spk.onnx (speaker head), labels, meta, model card.

    A head is a fitted sklearn pipeline, or a ``voice_ensemble.Recipe`` (one combined graph)."""
    from attune_training.voice_ensemble import Recipe
    from attune_training.voice_ensemble_onnx import to_onnx_model

    out_dir.mkdir(parents=True, exist_ok=True)
    labels = [str(c) for c in meta["classes"]]
    for name, clf in heads.items():
        if isinstance(clf, Recipe):
            path = out_dir / HEAD_FILES[name]
            path.write_bytes(to_onnx_model(clf, labels).SerializeToString())
            continue
        if [str(c) for c in clf.classes_] != labels:
            raise ValueError("both heads must share one label order")
        export_onnx(clf, out_dir / HEAD_FILES[name])
    (out_dir / "labels.json").write_text(json.dumps(labels) + "\n")
    full = {
        **meta,
        "n_features": N_FEATURES,
        "feature_names": FEATURE_NAMES,
        "population_mean": [round(float(v), 6) for v in population],
    }
    (out_dir / "meta.json").write_text(json.dumps(full, indent=1) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(card)
