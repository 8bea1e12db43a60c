"""The shipped expression model, run with onnxruntime (no PyTorch at run time)."""

from __future__ import annotations

import numpy as np

from attune.signals.taxonomy import FER_LABELS

MODEL_NAME = "face-expression"


class ExpressionModel:
    """The ONNX expression model: (N, 48, 48) uint8 faces -> (N, 7) probabilities."""

    def __init__(self, name: str = MODEL_NAME, threads: int = 1) -> None:
        from attune.models.runtime import load_bundle

        self.bundle = load_bundle(name, threads=threads)
        if list(self.bundle.labels) != list(FER_LABELS):
            raise ValueError(f"{name}: labels {self.bundle.labels} are not {list(FER_LABELS)}")
        self.input = self.bundle.session.get_inputs()[0].name

    @property
    def version(self) -> str:
        return self.bundle.version

    def predict(self, faces: np.ndarray, batch: int = 256) -> np.ndarray:
        out = []
        for start in range(0, len(faces), batch):
            x = faces[start : start + batch].astype(np.float32)[:, None, :, :]
            probs = self.bundle.session.run(None, {self.input: x})[0]
            # int8 graphs (own models exported with --int8) round their softmax: renormalise.
            out.append(probs / probs.sum(axis=1, keepdims=True))
        return np.concatenate(out) if out else np.zeros((0, len(FER_LABELS)), np.float32)
