"""Text heads at run time: plain numpy weights (npz) read and applied with two matrix
products, no framework. Training (``attune_training.text_heads``) writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HEAD_FILE = "head.npz"
# The linear head trained together with a fine-tuned encoder, and its label order, kept in
# the encoder's artifact folder (see attune_training.text_encoder): emotions or intents.
ENCODER_HEADS = {
    "emotion": ("emotion_head.npz", "emotion_labels.json"),
    "intent": ("intent_head.npz", "intent_labels.json"),
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
