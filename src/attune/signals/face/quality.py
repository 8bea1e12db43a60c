"""Is a face crop fit to read? Size, sharpness, exposure and contrast, each with a threshold,
combined into a quality score in [0, 1]. A crop that fails any check is not read at all."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class QualityConfig:
    min_face_px: int = 72  # smaller faces hold too little detail at 48×48
    min_sharpness: float = 35.0  # variance of the Laplacian on the 96×96 crop
    good_sharpness: float = 200.0
    min_brightness: float = 40.0  # mean grey level
    max_brightness: float = 220.0
    min_contrast: float = 18.0  # std of grey levels


@dataclass(frozen=True, slots=True)
class Quality:
    score: float  # 0 = unreadable .. 1 = clean
    face_px: int
    sharpness: float
    brightness: float
    contrast: float
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, float | int | list[str]]:
        return {
            "score": round(self.score, 3),
            "face_px": self.face_px,
            "sharpness": round(self.sharpness, 1),
            "brightness": round(self.brightness, 1),
            "contrast": round(self.contrast, 1),
            "problems": list(self.problems),
        }


def assess(crop96: np.ndarray, face_px: int, cfg: QualityConfig | None = None) -> Quality:
    """``crop96``: the grey face crop resized to 96×96; ``face_px``: box side in the frame."""
    import cv2

    cfg = cfg or QualityConfig()
    sharpness = float(cv2.Laplacian(crop96, cv2.CV_64F).var())
    brightness = float(crop96.mean())
    contrast = float(crop96.std())
    problems = []
    if face_px < cfg.min_face_px:
        problems.append("too small")
    if sharpness < cfg.min_sharpness:
        problems.append("blurred")
    if not cfg.min_brightness <= brightness <= cfg.max_brightness:
        problems.append("too dark" if brightness < cfg.min_brightness else "overexposed")
    if contrast < cfg.min_contrast:
        problems.append("low contrast")
    sharp = min(1.0, (sharpness - cfg.min_sharpness) / (cfg.good_sharpness - cfg.min_sharpness))
    size = min(1.0, (face_px - cfg.min_face_px) / cfg.min_face_px)
    score = 0.0 if problems else max(0.0, 0.5 + 0.25 * sharp + 0.25 * size)
    return Quality(score, face_px, sharpness, brightness, contrast, tuple(problems))
