"""Heads on the shared encoder features, stored as plain numpy weights (npz).

``mlp``: one hidden ReLU layer (sklearn MLPClassifier, multi-label with sigmoid outputs);
``linear``: logistic regression (one-vs-rest or multinomial). Features are standardised first.
``encoder``: the linear head fine-tuned together with the encoder (emotions only).
Run time computes the logits with two matrix products, no framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from attune.models.training.text_tfidf import fit_linear

HEAD_FILE = "head.npz"
# The linear head trained together with a fine-tuned encoder, and its label order, kept in
# the encoder's artifact folder (see text_encoder.py): emotions (multi-label) or intents.
ENCODER_HEADS = {
    "emotion": ("emotion_head.npz", "emotion_labels.json"),
    "intent": ("intent_head.npz", "intent_labels.json"),
}


def fit_head(
    x: np.ndarray, y: np.ndarray, multi_label: bool, kind: str, seed: int, c: float = 1.0
) -> dict[str, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    if kind == "linear":
        coef, bias = fit_linear(z, y, multi_label, c, seed)
        return {"mean": mean, "scale": scale, "w1": coef, "b1": bias}
    if kind != "mlp":
        raise ValueError(f"unknown head kind {kind!r} (use mlp or linear)")
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(
        hidden_layer_sizes=(512,),
        alpha=1e-3 / max(c, 1e-6),
        batch_size=256,
        learning_rate_init=1e-3,
        max_iter=40,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=4,
        random_state=seed,
    )
    target = y if multi_label else y.astype(int)
    mlp.fit(z, target)
    w2, b2 = mlp.coefs_[1], mlp.intercepts_[1]
    if not multi_label and w2.shape[1] == 1:
        raise ValueError("an mlp head needs at least three labels")
    return {
        "mean": mean,
        "scale": scale,
        "w1": mlp.coefs_[0].astype(np.float32),
        "b1": mlp.intercepts_[0].astype(np.float32),
        "w2": w2.astype(np.float32),
        "b2": b2.astype(np.float32),
    }


def head_logits(head: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    z = (x - head["mean"]) / head["scale"]
    h = z @ head["w1"] + head["b1"]
    if "w2" in head:
        h = np.maximum(h, 0.0) @ head["w2"] + head["b2"]
    return h.astype(np.float32)


def save_head(head: dict[str, np.ndarray], path: Path) -> None:
    arrays: dict[str, Any] = {k: v.astype(np.float32) for k, v in head.items()}
    np.savez_compressed(path, **arrays)


def load_head(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def encoder_head(encoder_dir: Path, labels: list[str], kind: str) -> dict[str, np.ndarray]:
    """The ``kind`` head fine-tuned with the encoder, its columns put in ``labels`` order."""
    import json

    head_file, labels_file = ENCODER_HEADS[kind]
    file = encoder_dir / head_file
    if not file.is_file():
        raise ValueError(f"{encoder_dir} holds no fine-tuned {kind} head ({head_file})")
    trained = json.loads((encoder_dir / labels_file).read_text())
    missing = sorted(set(labels) - set(trained))
    if missing:
        raise ValueError(f"the fine-tuned head has no column for {missing[0]!r}")
    cols = [trained.index(lab) for lab in labels]
    head = load_head(file)
    return {**head, "w1": head["w1"][:, cols], "b1": head["b1"][cols]}
