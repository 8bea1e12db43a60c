"""Prosodic features, VAD and the block-wise streaming path, on audio synthesised in the test."""

from __future__ import annotations

import numpy as np
import pytest

from attune.signals.voice import vad
from attune.signals.voice.baseline import Baseline, describe
from attune.signals.voice.features import (
    FEATURE_NAMES,
    N_FEATURES,
    extract,
    from_lld,
    gain_invariant,
)
from attune.signals.voice.lld import extract_lld
from attune.signals.voice.stream import Channel
from attune.signals.voice.synth import vowel_speech

SR = 16000


def test_pitch_of_a_pure_tone_and_of_synthetic_speech() -> None:
    t = np.arange(SR) / SR
    lld = extract_lld((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
    assert abs(float(np.median(lld.f0[lld.voiced()])) - 220) < 2
    _, pros = extract(vowel_speech(4.0, f0=140))
    assert abs(pros.f0_median_hz - 140) < 14
    _, high = extract(vowel_speech(4.0, f0=230))
    assert high.f0_median_hz > 1.4 * pros.f0_median_hz


def test_vad_hears_speech_but_not_silence_or_noise() -> None:
    rng = np.random.default_rng(1)
    speech = vad.speech_probs(vowel_speech(4.0, f0=140))
    noise = vad.speech_probs((0.05 * rng.standard_normal(4 * SR)).astype(np.float32))
    silence = vad.speech_probs(np.zeros(4 * SR, np.float32))
    assert (speech > 0.5).mean() > 0.7
    assert (noise > 0.5).mean() < 0.1 and (silence > 0.5).mean() == 0.0


def test_streamed_vad_equals_whole_clip_vad() -> None:
    x = vowel_speech(3.0, f0=160)
    whole = vad.speech_probs(x)
    st = vad.VadState()
    parts = [vad.speech_probs(x[i : i + 700], st) for i in range(0, len(x), 700)]
    streamed = np.concatenate(parts)
    n = len(streamed)
    assert n == len(x) // vad.CHUNK
    assert np.allclose(streamed, whole[:n], atol=1e-5)


def test_feature_vector_shape_and_gain_invariance() -> None:
    # A faint noise floor, as every recording has (log-mel has an absolute floor at 1e-8).
    rng = np.random.default_rng(0)
    x = vowel_speech(3.0, f0=150, level=0.2) + 2e-4 * rng.standard_normal(3 * SR)
    probs = vad.speech_probs(x)  # same speech frames for both (Silero itself is near level-blind)
    assert abs((vad.speech_probs(0.25 * x) > 0.5).mean() - (probs > 0.5).mean()) < 0.05
    v1, p1 = extract(x, probs)
    v2, p2 = extract(0.25 * x, probs)
    assert v1.shape == (N_FEATURES,) == (len(FEATURE_NAMES),) and np.isfinite(v1).all()
    assert abs((p1.loudness_db - p2.loudness_db) - 12.04) < 0.5  # 4x amplitude = +12 dB
    g1, g2 = gain_invariant(v1), gain_invariant(v2)
    assert np.allclose(g1, g2, rtol=0.02, atol=0.05)


def test_rate_and_pauses() -> None:
    _, slow = extract(vowel_speech(6.0, f0=140, rate=4.0))
    _, fast = extract(vowel_speech(6.0, f0=140, rate=6.5))
    assert fast.rate_syl_s > slow.rate_syl_s * 1.3
    _, paused = extract(vowel_speech(9.0, f0=140, rate=5.0, pause_every=3.0, pause_s=1.0))
    assert paused.long_pauses >= 2 and paused.pause_ratio > 0.15
    assert slow.long_pauses == 0


def test_block_wise_streaming_matches_whole_window_features() -> None:
    x = vowel_speech(5.0, f0=150, seed=3)
    ch = Channel()
    windows = []
    for i in range(0, len(x), 1234):
        windows += ch.feed(x[i : i + 1234])
    assert len(windows) == 2  # 3 s window, 1 s hop, 5 s of audio -> windows ending at 3 s and 4 s
    w = windows[0]
    streamed, _ = from_lld(w.lld, w.probs, 3.0)
    direct, _ = extract(x[w.start : w.end])
    assert np.corrcoef(streamed, direct)[0, 1] > 0.999


def test_baseline_reports_relative_change_in_plain_words() -> None:
    base = Baseline()
    v, calm = extract(vowel_speech(3.0, f0=120, rate=4.5))
    for _ in range(5):
        base.update(v, calm)
    _, raised = extract(vowel_speech(3.0, f0=165, rate=4.5))
    dev = base.deviations(raised)
    assert 25 < dev["pitch_pct"] < 50
    text = describe(dev, raised)
    assert "above this caller's baseline" in text and "pitch" in text
    young = Baseline()
    assert young.deviations(raised) == {}
    assert "baseline still forming" in describe({}, raised)


def test_channel_vad_runs_per_block_and_equals_whole_clip_vad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = vowel_speech(3.5, f0=150, seed=5, pause_every=1.5, pause_s=0.5)
    whole = vad.speech_probs(x)
    runs = []
    real = vad.speech_probs

    def counted(samples: np.ndarray, st: vad.VadState | None = None) -> np.ndarray:
        runs.append(len(samples))
        return real(samples, st)

    monkeypatch.setattr(vad, "speech_probs", counted)
    ch = Channel()
    for i in range(0, len(x), 320):  # 20 ms frames, as a telephony stream sends them
        ch.feed(x[i : i + 320])
    ch.run_vad()
    # One VAD run per closed block (3 here) plus the catch-up, not one per frame (175).
    assert len(runs) == 4
    n = len(x) // vad.CHUNK  # the last partial chunk waits for more audio
    assert ch.probs_offset + len(ch.probs) == len(ch.speech) == n
    assert np.allclose(ch.probs, whole[ch.probs_offset : n], atol=1e-5)
    assert bytes(ch.speech) == bytes(vad.speech_mask(whole[:n]).astype(np.uint8))
