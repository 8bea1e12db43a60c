"""Face benchmark: frames per second through the whole analyzer (decode excluded, detection and
tracking included) at 640×480 on one thread, and classification-only faces per second.

Frames are the shipped sample frame (a public-domain NASA portrait, ``sample_frame.npz``)
shifted a few pixels each frame, so the tracker really re-checks a moving face. Both wall-clock
and process-CPU rates are reported: on a shared machine the CPU rate is the one-core figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.face.model import MODEL_NAME

SAMPLE = Path(__file__).with_name("sample_frame.npz")


def sample_frame(width: int = 640, height: int = 480) -> np.ndarray:
    import cv2

    from attune.signals.face.decode import decode_frame

    with np.load(SAMPLE, allow_pickle=False) as data:
        frame = decode_frame(data["jpeg"].tobytes())
    if frame.shape[:2] != (height, width):
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return frame


def moving_frames(base: np.ndarray, n: int) -> list[np.ndarray]:
    """``n`` frames with the scene drifting up to ±12 px, like a person moving in a call."""
    out = []
    for i in range(n):
        dx, dy = round(12 * np.sin(i / 9)), round(6 * np.cos(i / 13))
        out.append(np.roll(base, (dy, dx), axis=(0, 1)))
    return out


def _rate(fn: Callable[[], int], min_seconds: float) -> dict[str, float]:
    """Run ``fn`` (returns items done) until ``min_seconds`` of wall time; items per second."""
    fn()  # warm-up
    items, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < min_seconds:
        items += fn()
    wall = time.perf_counter() - wall0
    cpu = max(time.process_time() - cpu0, 1e-9)
    return {"per_s_wall": round(items / wall, 1), "per_s_cpu": round(items / cpu, 1)}


def run(
    seconds: float = 3.0, frames: int = 120, with_baseline: bool = True, model: str = MODEL_NAME
) -> dict[str, Any]:
    import cv2

    from attune.events.admitted import Frame, GatedEvent
    from attune.signals.base import SessionScratch
    from attune.signals.face.analyzer import FaceAnalyzer, FaceConfig
    from attune.signals.face.detect import FaceDetector
    from attune.signals.face.preprocess import crop_face, to_gray

    cv2.setNumThreads(1)  # the one-core figure
    analyzer = FaceAnalyzer(model=model)
    every = FaceAnalyzer(FaceConfig(redetect_every=1), model=model)  # no tracking shortcut
    clip = moving_frames(sample_frame(), frames)

    def pipeline(which: FaceAnalyzer = analyzer) -> int:
        scratch = SessionScratch()
        for i, image in enumerate(clip):
            event = GatedEvent("frame", f"b{i}", "bench", "bench", i / 30, None, None, Frame(image))
            which.analyze(event, scratch)
        return len(clip)

    detector = FaceDetector(analyzer.cfg.detect_width)

    def detect_every_frame() -> int:
        for image in clip[:30]:
            detector.find_all(to_gray(image))
        return 30

    gray = to_gray(clip[0])
    box = detector.find_all(gray)[0].as_tuple()
    face = crop_face(gray, box, 48)[None]
    faces = np.repeat(face, 64, axis=0)

    def classify_one() -> int:
        for _ in range(50):
            analyzer.classify(face)
        return 50

    def classify_batch() -> int:
        analyzer.classify(faces)
        return len(faces)

    result: dict[str, Any] = {
        "frame": "640x480 BGR",
        "threads": 1,
        "pipeline_fps": _rate(pipeline, seconds),
        # The whole analyzer with the cascade run on every frame (a window around the last box
        # first, the whole frame when the face is lost), classification included.
        "pipeline_fps_detect_every_frame": _rate(lambda: pipeline(every), seconds),
        "detect_only_fps_no_tracking": _rate(detect_every_frame, seconds),
        "classify_faces_per_s": _rate(classify_one, seconds),
        "classify_faces_per_s_batch64": _rate(classify_batch, seconds),
        "detector": {
            "kind": "opencv haar frontal (profile when no frontal face)",
            "detect_width": analyzer.cfg.detect_width,
            "redetect_every": analyzer.cfg.redetect_every,
        },
        "model": analyzer.source,
        "target_fps": 30,
    }
    result["meets_target_cpu"] = result["pipeline_fps"]["per_s_cpu"] >= 30
    if with_baseline:
        from attune.signals.face.baseline import FerBaseline, available

        ok, why = available()
        if ok:
            base = FerBaseline()
            result["baseline_classify_faces_per_s"] = _rate(lambda: len(base.predict(faces)), 1.0)
        else:
            result["baseline_classify_faces_per_s"] = {"available": False, "reason": why}
    return result
