"""Frame-level low-level descriptors (numpy/scipy only): pitch, loudness, voice quality, spectrum.

eGeMAPS-style in spirit, written from the published definitions rather than from openSMILE:
32 ms frames every 10 ms at 16 kHz. Pitch is YIN (de Cheveigné & Kawahara 2002) computed for all
frames at once through FFT autocorrelation; jitter and shimmer are frame-level perturbation
proxies (period and amplitude change between consecutive voiced frames), not Praat's cycle-level
measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft as sfft

SR = 16_000
WIN = 512
HOP = 160
NFFT = 512
N_MELS = 40
N_MFCC = 13
F0_MIN, F0_MAX = 60.0, 500.0
YIN_THRESHOLD = 0.15
VOICED_MAX_CMND = 0.35


@dataclass(slots=True)
class Lld:
    """Per-frame descriptors; every array has one entry per frame."""

    rms_db: np.ndarray
    f0: np.ndarray  # Hz of the best YIN lag, voiced or not (see ``voiced``)
    cmnd: np.ndarray  # YIN's normalised difference at that lag: low = periodic
    periodicity: np.ndarray  # normalised autocorrelation at the pitch lag, 0..1
    mfcc: np.ndarray  # (frames, N_MFCC)
    logmel: np.ndarray  # (frames, N_MELS)
    centroid: np.ndarray  # Hz
    rolloff: np.ndarray  # Hz, 85 % of power below
    flatness: np.ndarray  # 0..1
    alpha_ratio: np.ndarray  # dB, 1-5 kHz vs 50 Hz-1 kHz
    hammarberg: np.ndarray  # dB, max 0-2 kHz minus max 2-5 kHz
    zcr: np.ndarray

    @property
    def n(self) -> int:
        return len(self.rms_db)

    def voiced(self) -> np.ndarray:
        """Periodic frames within 35 dB of the loudest frame (relative, so gain does not matter)."""
        loud = self.rms_db > max(float(self.rms_db.max(initial=-100.0)) - 35.0, -60.0)
        return (self.cmnd < VOICED_MAX_CMND) & loud

    def tail(self, n: int) -> Lld:
        return Lld(*(getattr(self, f)[-n:] for f in self.__slots__))

    @staticmethod
    def concat(parts: list[Lld]) -> Lld:
        """Frames of consecutive blocks joined in time (streaming computes each block once)."""
        names = Lld.__slots__
        return Lld(*(np.concatenate([getattr(p, f) for p in parts]) for f in names))


@lru_cache(maxsize=1)
def _mel_dct() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def hz2mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel2hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = np.fft.rfftfreq(NFFT, 1.0 / SR)
    pts = mel2hz(np.linspace(hz2mel(np.array(60.0)), hz2mel(np.array(7600.0)), N_MELS + 2))
    fb = np.zeros((N_MELS, len(freqs)), np.float32)
    for i in range(N_MELS):
        lo, mid, hi = pts[i], pts[i + 1], pts[i + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    k = np.arange(N_MELS)
    dct = np.cos(np.pi / N_MELS * (k[None, :] + 0.5) * np.arange(N_MFCC)[:, None]).astype(
        np.float32
    )
    return fb, dct, np.hanning(WIN).astype(np.float32)


def frames(x: np.ndarray) -> np.ndarray:
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    n = 1 + (len(x) - WIN) // HOP
    return np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP][:n]


def _yin(fr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: best lag (fractional), its CMND value and normalised autocorrelation."""
    tmin, tmax = int(SR / F0_MAX), int(SR / F0_MIN)
    x = fr - fr.mean(axis=1, keepdims=True)
    n_ac = sfft.next_fast_len(WIN + tmax + 2, real=True)
    spec = sfft.rfft(x, n_ac, axis=1)
    r = sfft.irfft(spec.real**2 + spec.imag**2, n_ac, axis=1)[:, : tmax + 2]
    cs = np.concatenate([np.zeros((len(x), 1), np.float32), np.cumsum(x * x, axis=1)], axis=1)
    taus = np.arange(tmax + 2)
    e_head = cs[:, WIN - taus]
    e_tail = cs[:, WIN : WIN + 1] - cs[:, taus]
    d = np.maximum(e_head + e_tail - 2.0 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.empty_like(d)
    cmnd[:, 0] = 1.0
    cmnd[:, 1:] = d[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
    seg = cmnd[:, tmin : tmax + 1]
    below = seg < YIN_THRESHOLD
    first = np.where(below.any(axis=1), below.argmax(axis=1), seg.argmin(axis=1))
    # Walk down to the bottom of the dip that first crossed the threshold.
    rows = np.arange(len(seg))
    for _ in range(12):
        nxt = np.minimum(first + 1, seg.shape[1] - 1)
        better = seg[rows, nxt] < seg[rows, first]
        if not better.any():
            break
        first = np.where(better, nxt, first)
    tau = first + tmin
    # Parabolic interpolation around the minimum for sub-sample lag.
    a = cmnd[rows, np.maximum(tau - 1, 1)]
    b = cmnd[rows, tau]
    c = cmnd[rows, np.minimum(tau + 1, tmax + 1)]
    den = a - 2 * b + c
    shift = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    frac = tau + np.clip(shift, -1.0, 1.0)
    nacf = r[rows, tau] / np.sqrt(np.maximum(e_head[rows, tau] * e_tail[rows, tau], 1e-12))
    return frac, b, np.clip(nacf, 0.0, 1.0)


def extract_lld(x: np.ndarray) -> Lld:
    """Descriptors for 16 kHz mono float audio: frame i covers samples [i*HOP, i*HOP+WIN)."""
    fb, dct, window = _mel_dct()
    fr = frames(np.asarray(x, np.float32))
    rms = np.sqrt(np.mean(fr * fr, axis=1) + 1e-10)
    rms_db = 20.0 * np.log10(rms + 1e-5)
    z = sfft.rfft(fr * window, NFFT, axis=1)
    spec = z.real**2 + z.imag**2
    # einsum, not @: BLAS would start threads for these tiny products (slow on a busy host).
    mel = np.einsum("ij,kj->ik", spec, fb)
    logmel = np.log(mel + 1e-8)
    mfcc = np.einsum("ij,kj->ik", logmel, dct)
    freqs = np.fft.rfftfreq(NFFT, 1.0 / SR)
    total = spec.sum(axis=1) + 1e-10
    centroid = (spec @ freqs) / total
    cum = np.cumsum(spec, axis=1)
    rolloff = freqs[np.minimum((cum < 0.85 * total[:, None]).sum(axis=1), len(freqs) - 1)]
    flatness = np.exp(np.mean(np.log(spec + 1e-10), axis=1)) / (total / spec.shape[1])
    lo = spec[:, (freqs >= 50) & (freqs < 1000)].sum(axis=1) + 1e-10
    hi = spec[:, (freqs >= 1000) & (freqs < 5000)].sum(axis=1) + 1e-10
    alpha = 10.0 * np.log10(hi / lo)
    sdb = 10.0 * np.log10(spec + 1e-10)
    hammarberg = sdb[:, freqs < 2000].max(axis=1) - sdb[:, (freqs >= 2000) & (freqs < 5000)].max(
        axis=1
    )
    zcr = np.mean(np.abs(np.diff(np.signbit(fr), axis=1)), axis=1)
    tau, cmnd_min, nacf = _yin(fr)
    return Lld(
        rms_db=rms_db.astype(np.float32),
        f0=(SR / tau).astype(np.float32),
        cmnd=cmnd_min.astype(np.float32),
        periodicity=nacf.astype(np.float32),
        mfcc=mfcc.astype(np.float32),
        logmel=logmel.astype(np.float32),
        centroid=centroid.astype(np.float32),
        rolloff=rolloff.astype(np.float32),
        flatness=flatness.astype(np.float32),
        alpha_ratio=alpha.astype(np.float32),
        hammarberg=hammarberg.astype(np.float32),
        zcr=zcr.astype(np.float32),
    )
