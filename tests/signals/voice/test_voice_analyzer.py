"""The voice analyzer and the live stream, on speech-like audio synthesised in the test."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from attune.events.admitted import AudioChunk, GatedEvent
from attune.signals import registry
from attune.signals.base import SessionScratch, Signal
from attune.signals.taxonomy import CX_STATES
from attune.signals.voice.analyzer import VoiceAnalyzer, VoiceStream
from attune.signals.voice.audio_io import float_to_pcm16, resample
from attune.signals.voice.stream import BLOCK, LOOKAHEAD
from attune.signals.voice.synth import vowel_speech

SR = 16000


@pytest.fixture(scope="module")
def analyzer() -> VoiceAnalyzer:
    built = registry.build("voice")
    assert isinstance(built, VoiceAnalyzer)
    return built


def _event(x: np.ndarray, role: str = "customer", sr: int = SR, at: float = 100.0) -> GatedEvent:
    return GatedEvent(
        kind="voice",
        event_id="e1",
        subject="s",
        session_id="sess",
        at=at,
        moment=None,
        channel="voice",
        payload=AudioChunk(samples=x, sample_rate=sr, role=role),  # type: ignore[arg-type]
    )


def _feed(
    an: VoiceAnalyzer,
    x: np.ndarray,
    role: str = "customer",
    sr: int = SR,
    scratch: SessionScratch | None = None,
    step_s: float = 0.5,
) -> list[Signal]:
    scratch = SessionScratch() if scratch is None else scratch
    out: list[Signal] = []
    step = int(sr * step_s)
    for i in range(0, len(x), step):
        out += an.analyze(_event(x[i : i + step], role, sr, at=100.0 + (i + step) / sr), scratch)
    return out


def test_customer_speech_gives_emotion_and_arousal_signals(analyzer: VoiceAnalyzer) -> None:
    sigs = _feed(analyzer, vowel_speech(6.0, f0=150, level=0.2))
    names = [s.name for s in sigs]
    assert names.count("emotion") == 3 and names.count("arousal") == 3  # windows end at 3, 4, 5 s
    for s in sigs:
        assert s.modality == "voice" and s.source.startswith("voice/prosody@")
        assert 0.0 <= s.value <= 1.0 and 0.0 <= s.confidence <= 1.0
        assert set(s.cx) == set(CX_STATES) and abs(sum(s.cx.values()) - 1.0) < 1e-6
        assert s.evidence
    emo = [s for s in sigs if s.name == "emotion"]
    assert abs(sum(emo[0].details["probs"].values()) - 1.0) < 1e-3
    assert emo[0].details["label"] in emo[0].details["probs"]
    assert emo[0].details["prosody"]["f0_median_hz"] == pytest.approx(150, rel=0.15)
    assert emo[0].at < emo[-1].at <= 106.0


def test_silence_and_noise_yield_nothing(analyzer: VoiceAnalyzer) -> None:
    rng = np.random.default_rng(0)
    assert _feed(analyzer, np.zeros(6 * SR, np.float32)) == []
    noise = (0.05 * rng.standard_normal(6 * SR)).astype(np.float32)
    assert _feed(analyzer, noise) == []


def test_agent_channel_gives_only_talk_metrics(analyzer: VoiceAnalyzer) -> None:
    sigs = _feed(analyzer, vowel_speech(6.0, f0=120, level=0.2), role="agent")
    assert sigs and all(s.name == "agent_talk" for s in sigs)
    for s in sigs:
        assert s.cx == {} and "probs" not in s.details and s.details["role"] == "agent"
        assert 1.5 < s.details["talk_s"] <= 3.0 and "agent spoke" in s.evidence


def test_telephone_rate_input_is_resampled(analyzer: VoiceAnalyzer) -> None:
    x8 = resample(vowel_speech(6.0, f0=150, level=0.2), SR, 8000)
    sigs = _feed(analyzer, x8, sr=8000)
    assert [s.name for s in sigs].count("emotion") == 3


def test_baseline_is_the_callers_own(analyzer: VoiceAnalyzer) -> None:
    """A naturally high voice is the reference; only a rise above it is reported as a rise."""
    scratch = SessionScratch()
    _feed(analyzer, vowel_speech(12.0, f0=220, level=0.2, seed=1), scratch=scratch)
    raised = _feed(analyzer, vowel_speech(4.0, f0=300, level=0.2, seed=2), scratch=scratch)
    last = [s for s in raised if s.name == "emotion"][-1]
    assert last.details["baseline_deviation"]["pitch_pct"] > 20
    assert "above this caller's baseline" in last.evidence
    fresh = _feed(analyzer, vowel_speech(4.0, f0=300, level=0.2, seed=2))
    assert "baseline still forming" in next(s for s in fresh if s.name == "emotion").evidence


def test_stereo_stream_splits_customer_and_agent(analyzer: VoiceAnalyzer) -> None:
    cust = resample(vowel_speech(8.0, f0=200, level=0.2, seed=3), SR, 8000)
    agent = resample(
        vowel_speech(8.0, f0=110, level=0.2, seed=4, pause_every=4.0, pause_s=2.0), SR, 8000
    )
    stream = VoiceStream(8000, channels=2, customer_channel=1, analyzer=analyzer, clock=lambda: 5.0)
    pcm = float_to_pcm16(np.stack([agent, cust]))
    sigs: list[Signal] = []
    for i in range(0, len(pcm), 1280):  # 40 ms frames
        sigs += stream.feed(pcm[i : i + 1280])
    cust_sigs = [s for s in sigs if s.details.get("role") == "customer"]
    agent_sigs = [s for s in sigs if s.name == "agent_talk"]
    assert cust_sigs and agent_sigs
    assert all(s.cx == {} for s in agent_sigs)
    # The customer's pitch, not the agent's, drives the customer's signals.
    assert cust_sigs[0].details["prosody"]["f0_median_hz"] == pytest.approx(200, rel=0.15)
    m = stream.metrics()
    assert m["customer_talk_s"] > 5 and 2 < m["agent_talk_s"] < m["customer_talk_s"]
    assert 0 < m["overlap_s"] <= m["agent_talk_s"]
    stream.close()
    with pytest.raises(RuntimeError, match="closed"):
        stream.feed(b"\x00\x00")


def test_talk_time_counts_audio_before_its_block_closes(analyzer: VoiceAnalyzer) -> None:
    # The VAD runs once per closed block; the metrics must still see the latest frames.
    stream = VoiceStream(16000, analyzer=analyzer, clock=lambda: 1.0)
    pcm = float_to_pcm16(vowel_speech(0.9, f0=150, level=0.2))
    for i in range(0, len(pcm), 640):
        stream.feed(pcm[i : i + 640])
    assert 0.6 < stream.metrics()["customer_talk_s"] <= 0.9


def test_short_stream_is_scored_on_close(analyzer: VoiceAnalyzer) -> None:
    stream = VoiceStream(16000, analyzer=analyzer, clock=lambda: 1.0)
    assert stream.feed(float_to_pcm16(vowel_speech(2.0, f0=150, level=0.2))) == []
    closing = stream.close()
    assert [s.name for s in closing] == ["emotion", "arousal"]
    assert stream.scratch == {}


def test_signal_within_200_ms_of_window_close(analyzer: VoiceAnalyzer) -> None:
    stream = VoiceStream(16000, analyzer=analyzer)
    pcm = float_to_pcm16(vowel_speech(8.0, f0=150, level=0.2))
    worst = 0.0
    for i in range(0, len(pcm), 640):
        t0 = time.perf_counter()
        if stream.feed(pcm[i : i + 640]):
            worst = max(worst, time.perf_counter() - t0)
    assert 0 < worst < 0.2


def test_audio_is_never_written_to_disk_nor_kept(
    analyzer: VoiceAnalyzer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    from attune.models.runtime import installed

    files = [p for m in installed().values() for p in m.path.rglob("*")]
    assert files  # the installed model distributions' folders
    before = {p: p.stat().st_mtime for p in files}
    scratch = SessionScratch()
    _feed(analyzer, vowel_speech(20.0, f0=150, level=0.2), scratch=scratch)
    stream = VoiceStream(8000, 2, analyzer=analyzer)
    stream.feed(float_to_pcm16(np.zeros((2, 8000 * 5), np.float32)))
    stream.close()
    assert list(tmp_path.rglob("*")) == []
    assert {p: p.stat().st_mtime for p in files} == before
    # In memory, a session keeps less than one block of raw samples, whatever the call length.
    ch = scratch["voice"].channels["customer"]
    assert len(ch.pending) < BLOCK + LOOKAHEAD
    assert len(ch.probs) < 5 * BLOCK // 512  # VAD history: one window and a block, not 20 s


def test_bad_events_are_refused(analyzer: VoiceAnalyzer) -> None:
    with pytest.raises(ValueError, match="role"):
        analyzer.analyze(_event(np.zeros(100, np.float32), role="boss"), SessionScratch())
    with pytest.raises(ValueError, match="mono"):
        analyzer.analyze(_event(np.zeros((2, 100), np.float32)), SessionScratch())


def test_runtime_probabilities_agree_with_the_onnx_labels(analyzer: VoiceAnalyzer) -> None:
    """The probabilities the analyzer reads must rank classes as the exported model does."""
    from attune.signals.voice.features import extract, gain_invariant

    model = analyzer.model
    feats = np.stack(
        [
            extract(vowel_speech(3.0, f0=f0, rate=r, seed=i))[0]
            for i, (f0, r) in enumerate([(110, 4.0), (160, 5.0), (230, 6.5), (300, 5.5)])
        ]
    )
    session = model.bundle.session
    onnx_labels = session.run(None, {session.get_inputs()[0].name: gain_invariant(feats)})[0]
    probs = model.population_probs(feats)
    assert [model.labels[i] for i in probs.argmax(axis=1)] == list(onnx_labels)
    assert np.allclose(probs.sum(axis=1), 1.0)
