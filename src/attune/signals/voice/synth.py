"""Speech-like test audio made from numbers (no recordings): a glottal pulse train through
vowel formant filters, cut into syllables. Silero's VAD hears it as speech at 4-6 syllables/s.
Used by ``attune bench voice`` and the tests, so neither needs any voice data."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SR = 16_000
VOWELS = ((700, 1200, 2600), (300, 2300, 3000), (500, 900, 2500), (400, 1800, 2600))


def vowel_speech(
    seconds: float = 3.0,
    f0: float = 140.0,
    level: float = 0.1,
    rate: float = 5.0,
    seed: int = 0,
    pause_every: float = 0.0,
    pause_s: float = 0.8,
) -> np.ndarray:
    """``rate`` syllables per second at pitch ``f0`` (±8 % vibrato), peak ``level``; optionally
    a silence of ``pause_s`` at the end of every ``pause_every`` seconds."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0c = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    pulses = np.diff(np.floor(np.cumsum(f0c / SR)), prepend=0) > 0
    src = lfilter([1.0], [1.0, -0.95], pulses.astype(float) + 0.02 * rng.standard_normal(n))
    out = np.zeros(n)
    syl = int(SR / rate)
    for k, s in enumerate(range(0, n, syl)):
        y = src[s : s + syl]
        for fc, bw in zip(VOWELS[k % len(VOWELS)], (80, 100, 120), strict=True):
            r = np.exp(-np.pi * bw / SR)
            th = 2 * np.pi * fc / SR
            y = lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], y)
        out[s : s + syl] = y * np.sin(np.pi * np.arange(len(y)) / len(y)) ** 0.6
    if pause_every:
        out[(t % pause_every) > pause_every - pause_s] = 0.0
    peak = float(np.abs(out).max()) or 1.0
    return (out / peak * level).astype(np.float32)
