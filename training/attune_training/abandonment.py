"""Train the abandonment-risk model on the UCI online-shoppers sessions and export it to ONNX.

Soft vote of extremely randomised trees (class-balanced) and regularised gradient boosting on
the engineered features of ``attune.signals.behaviour.abandonment``. The averaged score is
Platt-scaled on out-of-fold predictions (stored in meta.json, applied at run time), and the
purchase threshold is the one that maximises purchase-class F1 on those calibrated out-of-fold
predictions.
Reported: 5-fold CV on all rows, and a seeded stratified 80/20 dev split (model, calibration
and threshold from the 80 % only).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.behaviour.abandonment import COLUMNS, FEATURE_NAMES, calibrate, engineer

LABELS = ["no_purchase", "purchase"]
VERSION = "2"


def split_indices(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded stratified 80/20 dev split used for the reported dev figures."""
    from sklearn.model_selection import train_test_split

    idx_tr, idx_dev = train_test_split(
        np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed
    )
    return np.sort(idx_tr), np.sort(idx_dev)


def write_split(data: Path, out: Path, seed: int = 13) -> tuple[Path, Path]:
    """Write the dev split as two CSVs (``train_part.csv``, ``dev.csv``), rows verbatim, so a
    model trained on the first can be scored on the second with ``attune eval abandonment``."""
    rows, y = load_csv(data)
    with data.open(newline="") as f:
        header = next(csv.reader(f))
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / "train_part.csv", out / "dev.csv")
    for path, idx in zip(paths, split_indices(y, seed), strict=True):
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows[i] for i in idx)
    return paths


def load_csv(path: Path) -> tuple[list[dict[str, str]], np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in (*COLUMNS, "Revenue") if c not in header]
        if missing:
            raise ValueError(f"{path} lacks the columns {missing}")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{path} has no rows")
    y = np.array([1 if r["Revenue"].strip().upper() in ("TRUE", "1") else 0 for r in rows])
    return rows, y


def build_model(seed: int = 0, small: bool = False) -> Any:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        VotingClassifier,
    )

    # Classic gradient boosting: skl2onnx 1.20 cannot convert HistGradientBoosting with
    # scikit-learn 1.9 (boolean node attributes), and it scored the same in cross-validation.
    gbm = GradientBoostingClassifier(
        learning_rate=0.02,
        n_estimators=60 if small else 500,
        max_depth=3,
        min_samples_leaf=40,
        subsample=0.8,
        max_features=0.5,
        random_state=seed,
    )
    et = ExtraTreesClassifier(
        20 if small else 300,
        min_samples_leaf=10,
        max_features=0.3,
        class_weight="balanced",
        n_jobs=1,
        random_state=seed,
    )
    # flatten_transform=False: the skl2onnx voting converter needs it.
    return VotingClassifier([("et", et), ("gbm", gbm)], voting="soft", flatten_transform=False)


def fit_platt(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """P = sigmoid(a * logit(score) + b), fitted on out-of-fold scores (nearly unregularised)."""
    from sklearn.linear_model import LogisticRegression

    q = np.clip(p, 1e-6, 1 - 1e-6)
    z = np.log(q / (1 - q)).reshape(-1, 1)
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(z, y)
    return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    grid = np.round(np.arange(0.15, 0.80, 0.01), 2)
    scores = [f1_score(y, p >= t) for t in grid]
    return float(grid[int(np.argmax(scores))])


def oof(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    folds: int,
    small: bool,
    tick: Callable[[], None] = lambda: None,
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = build_model(seed, small).fit(x[tr], y[tr])
        out[te] = model.predict_proba(x[te])[:, 1]
        tick()
    return out


def metrics(y: np.ndarray, p: np.ndarray, thr: float) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, roc_auc_score

    from attune.measure.quality import ece

    pred = p >= thr
    conf = np.where(pred, p, 1 - p)
    return {
        "n": len(y),
        "auroc": float(roc_auc_score(y, p)),
        "f1": float(f1_score(y, pred)),
        "accuracy": float(accuracy_score(y, pred)),
        "threshold": thr,
        "brier": float(brier_score_loss(y, p)),
        "ece": ece(conf.tolist(), (pred == y).tolist())["ece"],
    }


def group_metrics(
    rows: list[dict[str, str]], y: np.ndarray, p: np.ndarray, thr: float
) -> dict[str, Any]:
    """Error rates per visitor type and weekend flag (the groups this data has)."""
    out: dict[str, Any] = {}
    for key in ("VisitorType", "Weekend"):
        for g in sorted({r[key] for r in rows}):
            idx = np.array([r[key] == g for r in rows])
            if idx.sum() == 0:
                continue
            pred = p[idx] >= thr
            out[f"{key}={g}"] = {
                "n": int(idx.sum()),
                "error_rate": float((pred != y[idx]).mean()),
                "purchase_rate": float(y[idx].mean()),
            }
    return out


def export_onnx(model: Any, path: Path) -> None:
    from skl2onnx import to_onnx

    onx = to_onnx(
        model,
        np.zeros((1, len(FEATURE_NAMES)), dtype=np.float32),
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    path.write_bytes(onx.SerializeToString())


def train(
    data: Path,
    out: Path,
    seed: int = 13,
    folds: int = 5,
    small: bool = False,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Everything the model card needs; writes model.onnx, labels.json, meta.json into ``out``."""
    rows, y = load_csv(data)
    x = engineer(rows)
    # Dev split: model, calibration and threshold from the 80 % only.
    idx_tr, idx_dev = split_indices(y, seed)
    s_tr = oof(x[idx_tr], y[idx_tr], seed, folds, small, tick)
    cal_dev = fit_platt(y[idx_tr], s_tr)
    thr_dev = best_threshold(y[idx_tr], calibrate(s_tr, cal_dev))
    dev_model = build_model(seed, small).fit(x[idx_tr], y[idx_tr])
    tick()
    s_dev = dev_model.predict_proba(x[idx_dev])[:, 1]
    p_dev = calibrate(s_dev, cal_dev)
    dev = metrics(y[idx_dev], p_dev, thr_dev)
    dev["ece_uncalibrated"] = metrics(y[idx_dev], s_dev, thr_dev)["ece"]
    groups = group_metrics([rows[i] for i in idx_dev], y[idx_dev], p_dev, thr_dev)
    # Final model on all rows; calibration and threshold from all-row out-of-fold predictions.
    s_oof = oof(x, y, seed, folds, small, tick)
    cal = fit_platt(y, s_oof)
    p_oof = calibrate(s_oof, cal)
    thr = best_threshold(y, p_oof)
    cv = metrics(y, p_oof, thr)
    raw = metrics(y, s_oof, best_threshold(y, s_oof))
    cv["ece_uncalibrated"] = raw["ece"]
    cv["brier_uncalibrated"] = raw["brier"]
    model = build_model(seed, small).fit(x, y)
    tick()
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out / "model.onnx")
    from attune.models.runtime import ort_session

    sess = ort_session(out / "model.onnx")
    p_onnx = np.asarray(sess.run(None, {sess.get_inputs()[0].name: x[:500]})[1])[:, 1]
    max_diff = float(np.abs(p_onnx - model.predict_proba(x[:500])[:, 1]).max())
    meta = {
        "name": "abandonment",
        "version": VERSION,
        "threshold": thr,
        "calibration": cal,
        "seed": seed,
        "folds": folds,
        "features": list(FEATURE_NAMES),
        "positive": "purchase",
        "rows": len(y),
        "purchase_rate": float(y.mean()),
        "dev_split": dev,
        "dev_groups": groups,
        "cv": cv,
        "onnx_max_abs_diff": max_diff,
    }
    (out / "labels.json").write_text(json.dumps(LABELS) + "\n")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    from attune_training import overlap

    overlap.write(out, row_hashes(rows))  # the final model saw every row
    return meta


def row_hashes(rows: list[dict[str, str]]) -> list[str]:
    """One hash per row over the dataset's columns (and the label), whatever the column order."""
    from attune_training.overlap import row_hash

    return [row_hash([r.get(c, "") for c in (*COLUMNS, "Revenue")]) for r in rows]
