"""Score the shipped expression model (and the ``fer`` baseline) on labelled 48×48 faces.

No PyTorch: this runs the ONNX artifact with onnxruntime, exactly as the analyzer does.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.face.model import MODEL_NAME, ExpressionModel
from attune.signals.taxonomy import FER_LABELS

__all__ = ["MODEL_NAME", "ExpressionModel", "load_faces", "metrics"]


def load_faces(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (N, 48, 48) uint8 and ``labels`` (N,) in 0..6; ValueError when malformed."""
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # zip/format errors of any kind: one clear message
        raise ValueError(f"{path} is not a readable .npz file ({exc})") from exc
    with data:
        missing = {"images", "labels"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks {sorted(missing)} (has {data.files})")
        images, labels = data["images"], data["labels"]
    if images.ndim != 3 or images.shape[1:] != (48, 48):
        raise ValueError(f"images must be N×48×48 grey faces, got shape {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be {len(images)} integers, got {labels.shape} {labels.dtype}"
        )
    if len(labels) == 0:
        raise ValueError("the file holds no faces")
    if labels.min() < 0 or labels.max() > 6:
        raise ValueError("labels must be in 0..6 (angry … neutral)")
    return images, labels.astype(np.int64)


def metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro F1, per-class recall/precision, confusion matrix, NLL and 15-bin ECE."""
    k = len(FER_LABELS)
    pred = probs.argmax(1)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    support = cm.sum(1)
    predicted = cm.sum(0)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    present = support > 0
    conf = probs.max(1)
    edges = np.linspace(0, 1, 16)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs((pred[sel] == labels[sel]).mean() - conf[sel].mean())
    p_true = np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)
    return {
        "n": len(labels),
        "accuracy": round(float((pred == labels).mean()), 4),
        "macro_f1": round(float(f1[present].mean()), 4),
        "per_class_recall": {
            c: round(float(r), 4) for c, r in zip(FER_LABELS, recall, strict=True)
        },
        "per_class_precision": {
            c: round(float(p), 4) for c, p in zip(FER_LABELS, precision, strict=True)
        },
        "support": {c: int(s) for c, s in zip(FER_LABELS, support, strict=True)},
        "nll": round(float(-np.log(p_true).mean()), 4),
        "ece": round(float(ece), 4),
        "confusion": cm.tolist(),
    }
