"""A company pack's German head: the pack's intents on the multilingual route's encoder.

A pack trained with ``attune train intent --pack NAME --data CSV`` reads English through the
shared MiniLM encoder, which reads German poorly. Messages the run time routes to German go to
the multilingual route instead; there the pack needs a head of its own on the same frozen
USE-m3 features the route already computes, so it is fitted here from the same rows (whatever
their language: USE-m3 maps German and English requests near each other) and stored in the
pack's folder. The ``unknown`` cut follows the pack rule, on the pack's own dev split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.text.heads import save_head
from attune.signals.text.multilingual import PACK_HEAD, PACK_META
from attune.signals.text.probs import softmax
from attune_training.text_data import Labelled
from attune_training.text_heads import fit_head, head_logits
from attune_training.text_train import unknown_threshold


def fit_pack_head(
    train: Labelled, dev: Labelled, names: list[str], out_dir: Path, seed: int
) -> dict[str, Any] | None:
    """Fit and save the pack's multilingual head; None (and nothing written) when the
    multilingual encoder is not installed (the ``text`` extra)."""
    try:
        from attune.signals.text.multilingual import MultilingualEncoder

        encoder = MultilingualEncoder()
    except ImportError:
        return None
    y = np.array([names.index(x[0]) for x in train.labels])
    head = fit_head(encoder.features(train.texts), y, False, "linear", seed)
    probs = softmax(head_logits(head, encoder.features(dev.texts)))
    y_dev = np.array([names.index(x[0]) for x in dev.labels])
    meta = {
        "labels": names,
        "unknown_threshold": unknown_threshold(probs, y_dev),
        "dev_accuracy": round(float((probs.argmax(1) == y_dev).mean()), 4),
        "train_rows": len(train),
        "dev_rows": len(dev),
    }
    save_head(head, out_dir / PACK_HEAD)
    (out_dir / PACK_META).write_text(json.dumps(meta, indent=1) + "\n")
    return meta
