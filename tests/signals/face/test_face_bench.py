"""The face benchmark runs end to end and reports the figures the issue asks for."""

from __future__ import annotations

from attune.signals.face.bench import moving_frames, run, sample_frame


def test_bench_reports_pipeline_and_classification_rates() -> None:
    result = run(seconds=0.2, frames=30, with_baseline=False)
    keys = ("pipeline_fps", "pipeline_fps_detect_every_frame", "classify_faces_per_s")
    for key in (*keys, "detect_only_fps_no_tracking"):
        assert result[key]["per_s_wall"] > 0 and result[key]["per_s_cpu"] > 0
    assert result["frame"] == "640x480 BGR" and result["threads"] == 1
    assert isinstance(result["meets_target_cpu"], bool)


def test_bench_frames_really_move() -> None:
    frames = moving_frames(sample_frame(), 20)
    assert frames[0].shape == (480, 640, 3)
    assert not all((f == frames[0]).all() for f in frames[1:])
