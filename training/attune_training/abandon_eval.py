"""Evaluate the shipped abandonment model on a labelled CSV (the eval contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from attune.models.runtime import artifact_dir
from attune.signals.behaviour import abandonment
from attune_training import overlap
from attune_training.abandonment import load_csv, row_hashes


def evaluate(data: Path) -> dict[str, Any]:
    rows, y = load_csv(data)
    seen = overlap.report(row_hashes(rows), overlap.load(artifact_dir("abandonment")))
    p = abandonment.purchase_probability(rows)
    thr = abandonment.threshold()
    pred = (p >= thr).astype(int)
    auroc = float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None
    return {
        "n": len(y),
        "auroc": auroc,
        "f1": float(f1_score(y, pred, zero_division=0)),
        "accuracy": float(accuracy_score(y, pred)),
        "threshold": thr,
        "positive_rate": float(np.mean(pred)),
        **seen,
    }
