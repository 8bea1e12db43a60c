"""Face analyzer: facial-expression probabilities from consented video frames.

Per frame: grey conversion, face detection with tracking (``vision.detect``), a quality check
(size, sharpness, exposure, contrast), the ONNX expression model on a 48×48 crop, and an
exponential moving average of the probabilities across frames, weighted by quality. A signal
goes out at most once per ``emit_interval_s`` of event time, so a 30 fps stream does not swamp
fusion. A missing, turned-away, tiny or blurred face gives an ``expression_uncertain`` signal
with zero value and confidence — never a guess.

Nothing is kept but the face box of the last detection and the smoothed scores: no image, no
identity, no embedding. Nothing is logged or written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from attune.events.admitted import Frame, GatedEvent
from attune.models.runtime import ModelNotFound
from attune.signals.base import SessionScratch, Signal
from attune.signals.face.detect import FaceBox, FaceDetector, TrackState
from attune.signals.face.model import MODEL_NAME, ExpressionModel
from attune.signals.face.preprocess import crop_face, to_gray
from attune.signals.face.quality import Quality, QualityConfig, assess
from attune.signals.registry import AnalyzerUnavailable
from attune.signals.taxonomy import FER_LABELS, FER_TO_CX, to_cx

_PLAIN = {
    "absent": "no face in view",
    "turned_away": "the face is turned away from the camera",
    "too small": "the face is too small in the frame to read",
    "blurred": "the face is too blurred to read",
    "too dark": "the face is too dark to read",
    "overexposed": "the face is overexposed",
    "low contrast": "the face has too little contrast to read",
}


@dataclass(frozen=True, slots=True)
class FaceConfig:
    half_life_s: float = 0.75  # smoothing: a frame's weight halves after this much event time
    emit_interval_s: float = 1.0  # at most one signal per session in this much event time
    reset_after_s: float = 3.0  # no readable face for this long: forget the smoothed scores
    min_frames: int = 3  # readable frames before the confidence reaches its full level
    detect_width: int = 256
    redetect_every: int = 4
    quality: QualityConfig = field(default_factory=QualityConfig)


@dataclass(slots=True)
class _Session:
    track: TrackState = field(default_factory=TrackState)
    probs: np.ndarray | None = None  # smoothed expression probabilities
    frames: int = 0  # readable frames since the last reset
    last_good_at: float | None = None
    last_at: float | None = None
    last_emit_at: float | None = None
    last_emit_kind: str | None = None
    first_at: float | None = None


class FaceAnalyzer:
    modality: ClassVar[str] = "face"
    version: ClassVar[str] = "1"

    def __init__(self, config: FaceConfig | None = None, model: str = MODEL_NAME) -> None:
        self.cfg = config or FaceConfig()
        try:
            self.model = ExpressionModel(model)
        except ModelNotFound as exc:
            raise AnalyzerUnavailable(f"the face analyzer has no expression model: {exc}") from exc
        self.detector = FaceDetector(self.cfg.detect_width, self.cfg.redetect_every)
        self.source = f"face@{self.version}/{model}@{self.model.version}"

    def classify(self, faces: np.ndarray) -> np.ndarray:
        """(N, 48, 48) uint8 face crops -> (N, 7) probabilities (classification only)."""
        return self.model.predict(faces)

    def analyze(self, event: GatedEvent, scratch: SessionScratch) -> list[Signal]:
        if event.kind != "frame" or not isinstance(event.payload, Frame):
            return []
        image = event.payload.image
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError("a frame must be a uint8 numpy image (BGR, BGRA or grey)")
        state: _Session = scratch.setdefault("face", _Session())
        at = float(event.at)
        if state.first_at is None:
            state.first_at = at
        gray = to_gray(image)
        found = self.detector.track(gray, state.track)
        if found.box is not None and not found.searched:
            quality = self._quality(gray, found.box)
            if not quality.ok:  # the tracked box went stale (face moved or left): search now
                state.track.status = None
                found = self.detector.track(gray, state.track)
        if found.box is None:
            return self._uncertain(state, at, found.status, {"faces": 0})
        box = found.box.as_tuple()
        quality = self._quality(gray, found.box)
        if not quality.ok:
            return self._uncertain(state, at, quality.problems[0], {"quality": quality.to_dict()})
        probs = self.classify(crop_face(gray, box, 48)[None])[0].astype(np.float64)
        self._smooth(state, at, probs, quality.score)
        state.last_good_at = at
        details = {"quality": quality.to_dict(), "faces": found.faces}
        return self._maybe_emit(state, at, details)

    def _quality(self, gray: np.ndarray, box: FaceBox) -> Quality:
        return assess(crop_face(gray, box.as_tuple(), 96), min(box.w, box.h), self.cfg.quality)

    def _smooth(self, state: _Session, at: float, probs: np.ndarray, weight: float) -> None:
        if (
            state.probs is None
            or state.last_good_at is None
            or at - state.last_good_at > self.cfg.reset_after_s
        ):
            state.probs, state.frames = probs, 1
            state.last_at = at
            return
        dt = max(0.0, at - (state.last_at or at))
        # A new frame's share grows with the time since the last one and with its quality.
        alpha = max(1.0 - 0.5 ** (dt / self.cfg.half_life_s), 0.05) * weight
        state.probs = (1 - alpha) * state.probs + alpha * probs
        state.frames += 1
        state.last_at = at

    def _due(self, state: _Session, at: float, kind: str) -> bool:
        if state.last_emit_at is None or state.last_emit_kind != kind:
            return True
        return at - state.last_emit_at >= self.cfg.emit_interval_s

    def _maybe_emit(self, state: _Session, at: float, details: dict[str, Any]) -> list[Signal]:
        assert state.probs is not None
        if not self._due(state, at, "expression"):
            return []
        state.last_emit_at, state.last_emit_kind = at, "expression"
        probs = {label: float(p) for label, p in zip(FER_LABELS, state.probs, strict=True)}
        top = max(probs, key=probs.__getitem__)
        warmup = min(1.0, state.frames / self.cfg.min_frames)
        confidence = warmup * details["quality"]["score"]
        many = details["faces"] > 1
        if many:
            confidence *= 0.5  # the largest face is read; it may not be the customer's
        evidence = (
            f"facial expression looks mostly {top} ({probs[top]:.0%}) over "
            f"{state.frames} readable frame{'s' if state.frames != 1 else ''}"
            + ("; several faces in view, the largest was read" if many else "")
        )
        details = {**details, "probs": {k: round(v, 4) for k, v in probs.items()}, "top": top}
        details["frames"] = state.frames
        return [
            Signal(
                modality="face",
                name="expression",
                value=probs[top],
                confidence=confidence,
                evidence=evidence,
                at=at,
                cx=to_cx(probs, FER_TO_CX),
                source=self.source,
                details=details,
            )
        ]

    def _uncertain(
        self, state: _Session, at: float, reason: str, details: dict[str, Any]
    ) -> list[Signal]:
        if state.last_good_at is not None and at - state.last_good_at > self.cfg.reset_after_s:
            state.probs, state.frames = None, 0
        kind = f"uncertain:{reason}"
        if not self._due(state, at, kind):
            return []
        state.last_emit_at, state.last_emit_kind = at, kind
        return [
            Signal(
                modality="face",
                name="expression_uncertain",
                value=0.0,
                confidence=0.0,
                evidence=f"expression not read: {_PLAIN.get(reason, reason)}",
                at=at,
                cx={},
                source=self.source,
                details={**details, "uncertain": True, "reason": reason.replace(" ", "_")},
            )
        ]
