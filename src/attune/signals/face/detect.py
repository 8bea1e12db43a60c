"""Face detection with OpenCV's Haar cascades (shipped inside the opencv-python-headless 4.x
wheel), run on a downscaled grey frame, plus cheap tracking: a found box is re-used for a few
frames and then re-checked in a small window around it before a full-frame search.

Only a box (x, y, w, h) is kept between frames — no landmarks, no descriptor, nothing that
could recognise a person.

Why Haar and not MediaPipe (measured 2026-11-22 on the shipped 640×480 sample frame, one
thread, shared 2-core machine): mediapipe 0.10.21 face_detection (BlazeFace short-range) ran at
about 297 frames per CPU-second on every frame and is more robust to pose, but it pins numpy<2
and protobuf<5 while the project pins numpy 2.x, so it cannot live in the same environment.
The Haar cascade on a 256 px wide copy runs at about 50 frames per CPU-second on every frame;
with tracking (search every 4th frame, in a small window first) the whole analyzer runs at
about 300 frames per CPU-second (``attune bench face``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

Status = Literal["ok", "absent", "turned_away"]


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass(slots=True)
class TrackState:
    """What a session's detector remembers: the last box and how many frames ago it was seen."""

    box: FaceBox | None = None
    age: int = 0
    faces: int = 0
    status: Status | None = None  # None: never searched


@dataclass(frozen=True, slots=True)
class Detection:
    status: Status
    box: FaceBox | None
    faces: int  # frontal faces seen at the last search (more than one: the largest is read)
    searched: bool  # a cascade ran on this frame (False: the tracked box was re-used)


@lru_cache(maxsize=4)
def _cascade(name: str) -> Any:
    import cv2

    path = cv2.data.haarcascades + name  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV cascade {name} is missing; install opencv-python-headless<5")
    return cascade


class FaceDetector:
    """Frontal-face detector with tracking. ``detect_width``: width of the searched copy of the
    frame; the cascade's 20 px minimum then means faces under ~``20 * W / detect_width`` px are
    not found at all."""

    def __init__(
        self, detect_width: int = 256, redetect_every: int = 4, min_neighbors: int = 5
    ) -> None:
        if detect_width < 64 or redetect_every < 1:
            raise ValueError("detect_width must be >= 64 and redetect_every >= 1")
        self.detect_width = detect_width
        self.redetect_every = redetect_every
        self.min_neighbors = min_neighbors
        self.frontal = _cascade("haarcascade_frontalface_default.xml")
        self.profile = _cascade("haarcascade_profileface.xml")

    def _search(self, gray: np.ndarray, cascade: Any, scale: float, min_px: int) -> list[FaceBox]:
        import cv2

        small = gray
        if scale < 1.0:
            size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        found = cascade.detectMultiScale(
            small, scaleFactor=1.15, minNeighbors=self.min_neighbors, minSize=(min_px, min_px)
        )
        boxes = [
            FaceBox(round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            for (x, y, w, h) in found
        ]
        return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)

    def _full_scale(self, gray: np.ndarray) -> float:
        return min(1.0, self.detect_width / gray.shape[1])

    def find_all(self, gray: np.ndarray) -> list[FaceBox]:
        """Every frontal face in the frame, largest first."""
        return self._search(gray, self.frontal, self._full_scale(gray), 20)

    def turned_away(self, gray: np.ndarray) -> bool:
        """A face in profile (either side) where no frontal face was found."""
        import cv2

        # Half the frontal search resolution: this runs only when no frontal face is found.
        scale = self._full_scale(gray) / 2
        if self._search(gray, self.profile, scale, 20):
            return True
        return bool(self._search(cv2.flip(gray, 1), self.profile, scale, 20))

    def _near(self, gray: np.ndarray, box: FaceBox) -> list[FaceBox]:
        """Search a window of twice the last box around it, at a scale where a face is ~40 px."""
        pad_w, pad_h = box.w, box.h
        x0, y0 = max(0, box.x - pad_w // 2), max(0, box.y - pad_h // 2)
        x1 = min(gray.shape[1], box.x + box.w + pad_w // 2)
        y1 = min(gray.shape[0], box.y + box.h + pad_h // 2)
        window = gray[y0:y1, x0:x1]
        if window.size == 0:
            return []
        scale = min(1.0, 40.0 / max(1, box.w))
        found = self._search(window, self.frontal, scale, 20)
        return [FaceBox(b.x + x0, b.y + y0, b.w, b.h) for b in found]

    def track(self, gray: np.ndarray, state: TrackState) -> Detection:
        """Detection for this frame, re-using ``state``'s box while it is fresh."""
        if gray.ndim != 2:
            raise ValueError("track() needs a grey (H, W) image")
        # Re-use the last answer (a box, or "no face") for a few frames: at 30 fps a face
        # does not appear, vanish or turn within a tenth of a second.
        if state.status is not None and state.age < self.redetect_every - 1:
            state.age += 1
            return Detection(state.status, state.box, state.faces, searched=False)
        boxes: list[FaceBox] = []
        if state.box is not None:
            boxes = self._near(gray, state.box)
            faces = max(state.faces, len(boxes)) if boxes else 0
        if not boxes:
            boxes = self.find_all(gray)
            faces = len(boxes)
        if boxes:
            state.box, state.age, state.faces, state.status = boxes[0], 0, faces, "ok"
            return Detection("ok", boxes[0], faces, searched=True)
        status: Status = "turned_away" if self.turned_away(gray) else "absent"
        state.box, state.age, state.faces, state.status = None, 0, 0, status
        return Detection(status, None, 0, searched=True)
