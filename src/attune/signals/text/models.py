"""Run-time text models: the emotion model and the intent packs, loaded once per process.

Each model is an ensemble of a head on encoder features and the TF-IDF peer, each
temperature-scaled on dev, mixed with the weight picked on dev (see meta.json and the model
card). The peer alone is kept available so that eval can report it beside. The emotion model
and most packs read the shared encoder; a pack may name an encoder of its own in meta.json
(``encoder``), which costs one more transformer pass per message while that pack is active,
unless the pack has a cascade (``attune.signals.text.cascade``): then only the messages its
quick stage is unsure of take that pass.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from attune.models.runtime import artifact_dir
from attune.signals.taxonomy import GROUPINGS
from attune.signals.text import speculation
from attune.signals.text.cascade import Cascade
from attune.signals.text.encoder import ENCODER, Encoder
from attune.signals.text.heads import HEAD_FILE, head_logits, load_head
from attune.signals.text.probs import group_probs, labels_above, sigmoid, softmax
from attune.signals.text.tfidf import HEAD_FILE as TFIDF_HEAD
from attune.signals.text.tfidf import VECTORIZER_FILES, TfidfFeatures

EMOTION = "text-emotion"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class EarlyPass:
    """A pack's own encoder pass started beside the shared one, and the TF-IDF member's
    probabilities that showed it would be needed (reused, not computed twice)."""

    # None: no early pass (not needed for certain, or another early pass still runs)
    features: Future[np.ndarray] | None
    peer: np.ndarray


class TextModel:
    """One artifact directory: head.npz + tfidf.onnx + tfidf_head.npz + labels + meta."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = path
        self.meta: dict[str, Any] = json.loads((path / "meta.json").read_text())
        self.labels: list[str] = json.loads((path / "labels.json").read_text())
        self.multi = self.meta["kind"] == "emotion"
        self.head = load_head(path / HEAD_FILE)
        self.peer_head = load_head(path / TFIDF_HEAD)
        files = [path / f for f in VECTORIZER_FILES if (path / f).is_file()]
        self.tfidf = TfidfFeatures(files, threads)
        self.weight = float(self.meta["ensemble_weight"])
        self.cascade = Cascade.load(path, self.meta)  # packs with an encoder of their own

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @property
    def encoder_name(self) -> str:
        """The encoder artifact whose features this model's head reads."""
        return str(self.meta.get("encoder", ENCODER))

    def _calibrate(self, logits: np.ndarray, member: str) -> np.ndarray:
        t = float(self.meta["temperature"][member])
        return sigmoid(logits / t) if self.multi else softmax(logits / t)

    def peer_probs(self, texts: list[str]) -> np.ndarray:
        logits = self.tfidf.logits(texts, self.peer_head["w1"], self.peer_head["b1"])
        return self._calibrate(logits, "peer")

    def probs(
        self, features: np.ndarray, texts: list[str], peer: np.ndarray | None = None
    ) -> np.ndarray:
        """Calibrated probabilities (n, labels) from encoder features and the raw texts
        (``peer``: the TF-IDF member's probabilities of those texts, if already computed)."""
        p = self._calibrate(head_logits(self.head, features), "encoder")
        if self.weight < 1.0:
            p = self.weight * p + (1.0 - self.weight) * (
                self.peer_probs(texts) if peer is None else peer
            )
        return p

    def cascade_probs(
        self,
        texts: list[str],
        shared: np.ndarray,
        own: Callable[[list[str]], np.ndarray],
        early: EarlyPass | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, second-pass mask) through the cascade: ``own(texts)`` (the pack's
        encoder) runs only on the texts the quick stage on ``shared`` features is unsure of.
        ``early``: that pass over all ``texts``, started before (``start_pack_pass``)."""
        assert self.cascade is not None
        peer = self.peer_probs(texts) if early is None else early.peer
        started = early.features if early is not None else None

        def full(rows: np.ndarray) -> np.ndarray:
            sub = [texts[i] for i in rows]
            # an early pass read every text; it serves only when every text needs it
            if started is not None and len(rows) == len(texts):
                feats = started.result()
            else:
                feats = own(sub)
            return self.probs(feats, sub, peer[rows])

        return self.cascade.run(shared, peer, full)

    @cached_property
    def thresholds(self) -> np.ndarray:
        return np.array(self.meta["thresholds"], dtype=np.float32)

    def labels_above(self, probs: np.ndarray, peer: bool = False) -> np.ndarray:
        """Multi-label decisions (emotion) with the run-time thresholds."""
        key = "peer_thresholds" if peer else "thresholds"
        return labels_above(probs, np.array(self.meta[key], dtype=np.float32))

    def labels_above_by_group(self, probs: np.ndarray) -> dict[str, np.ndarray]:
        """Group decisions (Ekman, primary CX) on the noisy-OR of each group's labels, with
        the group thresholds fitted in training; empty for models trained without them."""
        out = {}
        for name, cuts in self.meta.get("group_thresholds", {}).items():
            p, _ = group_probs(probs, self.labels, GROUPINGS[name])
            out[name] = labels_above(p, np.array(cuts, dtype=np.float32))
        return out

    def intents(self, probs: np.ndarray, peer: bool = False) -> list[tuple[str, float]]:
        """Single-label decisions: (label or ``unknown``, confidence) per row."""
        cut = float(self.meta["peer_unknown_threshold" if peer else "unknown_threshold"])
        top = probs.argmax(axis=1)
        return [
            (self.labels[j] if probs[i, j] >= cut else UNKNOWN, float(probs[i, j]))
            for i, j in enumerate(top)
        ]


@dataclass
class TextModels:
    encoder: Encoder  # the shared one: the emotion model and most packs read its features
    emotion: TextModel
    packs: dict[str, TextModel]
    own_encoders: dict[str, Encoder] = field(default_factory=dict)  # by name, packs' own

    def pack_features(self, pack: str, texts: list[str], shared: np.ndarray) -> np.ndarray:
        """Features for ``pack``: the shared encoder's (``shared``, already computed) unless
        the pack was trained on an encoder of its own."""
        name = self.packs[pack].encoder_name
        return shared if name == ENCODER else self.own_encoders[name].features(texts)

    def start_pack_pass(self, pack: str | None, texts: list[str]) -> EarlyPass | None:
        """The pack's own encoder pass over one live message, started beside the shared pass
        where the cascade needs it for certain (``Cascade.cannot_be_sure``, read off the
        TF-IDF member before any transformer runs), so it never adds work. None where the pack
        has no cascade, for batches and when switched off."""
        model = self.packs.get(pack) if pack is not None else None
        if model is None or model.cascade is None or model.encoder_name == ENCODER:
            return None
        if len(texts) != 1 or not speculation.enabled():
            return None
        peer = model.peer_probs(texts)  # reused by the cascade either way
        if not model.cascade.cannot_be_sure(peer).all():
            return EarlyPass(None, peer)
        return EarlyPass(
            speculation.start(self.own_encoders[model.encoder_name].features, texts), peer
        )

    def pack_probs(
        self,
        pack: str,
        texts: list[str],
        shared: np.ndarray,
        early: EarlyPass | None = None,
    ) -> np.ndarray:
        """``pack``'s probabilities; a pack with a cascade runs its own encoder only on the
        texts its quick stage is unsure of (``early``: see ``start_pack_pass``)."""
        model = self.packs[pack]
        if model.cascade is None or model.encoder_name == ENCODER:
            return model.probs(self.pack_features(pack, texts, shared), texts)
        own = self.own_encoders[model.encoder_name].features
        return model.cascade_probs(texts, shared, own, early)[0]


_LOCK = threading.Lock()
_CACHE: dict[tuple[str, ...], TextModels] = {}


def pack_name(pack: str) -> str:
    return pack if pack.startswith("intent-") else f"intent-{pack}"


def load_models(packs: tuple[str, ...] = ("customer_service",), threads: int = 1) -> TextModels:
    """Load (once per process and per pack list) the encoder, the emotion model and packs."""
    key = (*packs, str(threads))
    with _LOCK:
        if key not in _CACHE:
            loaded = {p: TextModel(artifact_dir(pack_name(p)), threads) for p in packs}
            own = sorted({m.encoder_name for m in loaded.values()} - {ENCODER})
            _CACHE[key] = TextModels(
                encoder=Encoder(threads=threads),
                emotion=TextModel(artifact_dir(EMOTION), threads),
                packs=loaded,
                own_encoders={name: Encoder(artifact_dir(name), threads) for name in own},
            )
        return _CACHE[key]
