"""A pack's cascade: a quick stage answers alone when it is sure, its own encoder reads the rest.

A pack with an encoder of its own costs a second transformer pass per message. The quick
stage needs none: a linear head on the shared encoder's features (computed for the emotion
model anyway) mixed with the pack's TF-IDF member. Where its top probability reaches the
threshold (chosen in training on rows carved out of train, see the pack's meta.json
``cascade``), its answer stands; only the other messages go through the pack's own encoder
and the full ensemble.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.text.heads import head_logits, load_head
from attune.signals.text.probs import softmax

QUICK_HEAD = "quick_head.npz"  # the quick stage's head on the shared encoder's features


@dataclass(frozen=True)
class Cascade:
    head: dict[str, np.ndarray]
    weight: float  # on the quick head; 1 - weight on the TF-IDF member
    temperature: float  # of the quick head (the TF-IDF member keeps the pack's own)
    threshold: float  # the quick stage answers alone at or above this top probability

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any]) -> Cascade | None:
        """The pack's cascade, or None for a pack trained without one."""
        spec = meta.get("cascade")
        if spec is None:
            return None
        return cls(
            head=load_head(path / QUICK_HEAD),
            weight=float(spec["weight"]),
            temperature=float(spec["temperature"]),
            threshold=float(spec["threshold"]),
        )

    def cannot_be_sure(self, peer: np.ndarray) -> np.ndarray:
        """Per row, True where the quick stage cannot reach the threshold whatever the shared
        features say: its top probability is at most ``weight + (1 - weight) * max(peer)``.
        Those rows need the pack's own encoder for certain, known before the shared pass."""
        return self.weight + (1.0 - self.weight) * peer.max(axis=1) < self.threshold

    def quick(self, shared: np.ndarray, peer: np.ndarray) -> np.ndarray:
        """The quick stage's probabilities from the shared features and the TF-IDF member's."""
        own = softmax(head_logits(self.head, shared) / self.temperature)
        return self.weight * own + (1.0 - self.weight) * peer

    def run(
        self,
        shared: np.ndarray,
        peer: np.ndarray,
        full: Callable[[np.ndarray], np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, second-pass mask): ``full(rows)`` gives the full ensemble's
        probabilities of those rows, and is called only for rows the quick stage is unsure of."""
        probs = self.quick(shared, peer)
        unsure = probs.max(axis=1) < self.threshold
        rows = np.flatnonzero(unsure)
        if rows.size:
            probs[rows] = full(rows)
        return probs, unsure
