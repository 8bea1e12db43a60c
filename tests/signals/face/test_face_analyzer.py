"""FaceAnalyzer on real frames with the shipped model: signals, uncertainty, smoothing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from attune.events.admitted import Frame, GatedEvent
from attune.signals import registry
from attune.signals.base import SessionScratch
from attune.signals.face.analyzer import FaceAnalyzer
from attune.signals.face.bench import moving_frames, sample_frame
from attune.signals.taxonomy import CX_STATES, FER_LABELS


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    built = registry.build("face")
    assert isinstance(built, FaceAnalyzer)
    return built


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return sample_frame()


def _event(image: np.ndarray, at: float, kind: str = "frame") -> GatedEvent:
    return GatedEvent(kind, f"e{at}", "subject-hmac", "s1", at, "support", "video", Frame(image))  # type: ignore[arg-type]


def _feed(analyzer: FaceAnalyzer, frames: list[np.ndarray], t0: float = 0.0) -> list:
    scratch = SessionScratch()
    out = []
    for i, image in enumerate(frames):
        out += analyzer.analyze(_event(image, t0 + i / 30), scratch)
    return out


def test_reads_a_smiling_face(analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    signals = _feed(analyzer, moving_frames(frame, 45))  # 1.5 s at 30 fps
    assert [s.name for s in signals] == ["expression", "expression"]  # one per second
    last = signals[-1]
    assert last.modality == "face" and last.source.startswith("face@1/face-expression@")
    assert set(last.details["probs"]) == set(FER_LABELS)
    assert abs(sum(last.details["probs"].values()) - 1) < 1e-3
    assert last.details["top"] == "happy"
    assert set(last.cx) == set(CX_STATES) and abs(sum(last.cx.values()) - 1) < 1e-6
    assert max(last.cx, key=last.cx.__getitem__) == "satisfied"
    assert 0 < last.value <= 1 and 0 < last.confidence <= 1
    assert last.details["frames"] >= 30 and "happy" in last.evidence
    # The first signal comes from one frame: its confidence is held down until frames agree.
    assert signals[0].confidence < last.confidence


def test_no_face_gives_uncertain_not_a_guess(analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    blank = np.full_like(frame, 90)
    signals = _feed(analyzer, [blank] * 10)
    assert len(signals) == 1
    sig = signals[0]
    assert sig.name == "expression_uncertain" and sig.details["uncertain"] is True
    assert sig.details["reason"] == "absent"
    assert sig.value == 0.0 and sig.confidence == 0.0 and sig.cx == {}
    assert "no face" in sig.evidence


def test_blurred_face_is_not_read(analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(frame, (0, 0), 6)
    signals = _feed(analyzer, [blurred] * 5)
    assert [s.name for s in signals] == ["expression_uncertain"]
    assert signals[0].details["reason"] == "blurred" and signals[0].confidence == 0.0


def test_tiny_face_is_not_read(analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    canvas = np.full_like(frame, 80)
    small = cv2.resize(frame, None, fx=0.38, fy=0.38, interpolation=cv2.INTER_AREA)
    canvas[100 : 100 + small.shape[0], 200 : 200 + small.shape[1]] = small
    signals = _feed(analyzer, [canvas] * 3)
    assert [s.name for s in signals] == ["expression_uncertain"]
    assert signals[0].details["reason"] == "too_small"


def test_face_leaving_view_switches_to_uncertain_and_back(
    analyzer: FaceAnalyzer, frame: np.ndarray
) -> None:
    blank = np.full_like(frame, 90)
    frames = [frame] * 10 + [blank] * 10 + [frame] * 10
    names = [s.name for s in _feed(analyzer, frames)]
    assert names == ["expression", "expression_uncertain", "expression"]


def test_sessions_do_not_share_state(analyzer: FaceAnalyzer, frame: np.ndarray) -> None:
    a, b = SessionScratch(), SessionScratch()
    assert analyzer.analyze(_event(frame, 0.0), a)[0].name == "expression"
    assert (
        analyzer.analyze(_event(np.full_like(frame, 90), 0.0), b)[0].details["reason"] == "absent"
    )
    assert a["face"] is not b["face"]


def test_ignores_other_events_and_rejects_bad_frames(analyzer: FaceAnalyzer) -> None:
    event = GatedEvent("message", "m1", "s", "s1", 0.0, None, None, payload="hello")
    assert analyzer.analyze(event, SessionScratch()) == []
    with pytest.raises(ValueError, match="uint8"):
        analyzer.analyze(_event(np.zeros((48, 48), np.float32), 0.0), SessionScratch())


def test_missing_model_is_a_clear_unavailable_error() -> None:
    with pytest.raises(registry.AnalyzerUnavailable, match="no-such-model"):
        FaceAnalyzer(model="no-such-model")


class _Scripted(FaceAnalyzer):
    """The real detector and quality checks; the model's output replaced by a script, to check
    the smoothing arithmetic exactly."""

    def __init__(self, script: list[int]) -> None:
        super().__init__()
        self.script = iter(script)

    def classify(self, faces: np.ndarray) -> np.ndarray:
        out = np.full((len(faces), 7), 0.01)
        out[:, next(self.script)] = 0.94
        return out


def test_smoothing_damps_a_single_odd_frame(frame: np.ndarray) -> None:
    happy, angry = FER_LABELS.index("happy"), FER_LABELS.index("angry")
    script = [happy] * 30 + [angry] + [happy] * 29
    analyzer = _Scripted(script)
    scratch = SessionScratch()
    probs_after_odd = None
    for i in range(60):
        analyzer.analyze(_event(frame, i / 30), scratch)
        if i == 30:
            probs_after_odd = scratch["face"].probs.copy()
    assert probs_after_odd is not None
    # One angry frame among happy ones moves the smoothed score only a little.
    assert probs_after_odd[happy] > 0.85 and probs_after_odd[angry] < 0.1


def test_smoothing_follows_a_lasting_change(frame: np.ndarray) -> None:
    happy, sad = FER_LABELS.index("happy"), FER_LABELS.index("sad")
    analyzer = _Scripted([happy] * 30 + [sad] * 60)
    signals = _feed(analyzer, [frame] * 90)
    assert [s.details["top"] for s in signals] == ["happy", "happy", "sad"]
