"""Window-level prosodic features: functionals of the frame descriptors over the speech frames.

``extract`` turns 16 kHz mono audio into (a) one fixed-length vector for the emotion model and
(b) a ``Prosody`` summary in units a person understands (Hz, dB, syllables per second, pauses),
which the caller's baseline and the evidence sentences use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

from attune.signals.voice import vad
from attune.signals.voice.lld import HOP, N_MELS, N_MFCC, SR, WIN, Lld, extract_lld

LONG_PAUSE_S = 0.7


@dataclass(slots=True)
class Prosody:
    speech_s: float  # seconds of speech (VAD) in the window
    speech_ratio: float
    f0_median_hz: float  # 0 when no voiced frame
    f0_range_st: float  # 10th-90th percentile range in semitones
    f0_var_st: float  # standard deviation in semitones
    loudness_db: float  # median frame level over speech, dBFS
    rate_syl_s: float  # syllable nuclei per second of speech
    pause_ratio: float  # silence between first and last speech / that span
    long_pauses: int  # pauses >= 0.7 s
    jitter: float  # frame-level period perturbation (proxy)
    shimmer: float  # frame-level amplitude perturbation (proxy)
    hnr_db: float
    voiced_ratio: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def _stats(v: np.ndarray) -> list[float]:
    """mean, std, p10, p50, p90, p90-p10, slope per second."""
    if len(v) == 0:
        return [0.0] * 7
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    t = np.arange(len(v)) * (HOP / SR)
    tc = t - t.mean()
    den = float(tc @ tc)
    slope = float(tc @ (v - v.mean()) / den) if len(v) > 2 and den > 0 else 0.0
    return [float(v.mean()), float(v.std()), p10, p50, p90, p90 - p10, slope]


def _ms(a: np.ndarray) -> list[float]:
    """mean and std per column (or zeros)."""
    if len(a) == 0:
        return [0.0] * (2 * a.shape[1])
    return [*a.mean(axis=0).tolist(), *a.std(axis=0).tolist()]


def _delta(a: np.ndarray) -> np.ndarray:
    if len(a) < 3:
        return np.zeros_like(a)
    p = np.pad(a, ((1, 1), (0, 0)), mode="edge")
    return (p[2:] - p[:-2]) / 2.0


def _syllables(level_db: np.ndarray, voiced: np.ndarray) -> int:
    """Syllable nuclei: prominent voiced peaks of the smoothed level (after de Jong & Wempe)."""
    if len(level_db) < 5:
        return 0
    smooth = np.convolve(level_db, np.ones(5) / 5.0, mode="same")
    peaks, _ = find_peaks(smooth, prominence=2.0, distance=10)
    return int(np.sum(voiced[peaks]))


FEATURE_NAMES: list[str] = (
    [f"f0_st_{s}" for s in ("mean", "std", "p10", "p50", "p90", "range", "slope")]
    + ["f0_abs_delta", "voiced_ratio"]
    + [f"loud_{s}" for s in ("mean", "std", "p10", "p50", "p90", "range", "slope")]
    + ["loud_abs_delta", "hnr_mean", "hnr_std", "jitter", "shimmer"]
    + [f"mfcc{i}_{s}" for s in ("mean", "std") for i in range(1, N_MFCC)]
    + [f"dmfcc{i}_{s}" for s in ("mean", "std") for i in range(1, N_MFCC)]
    + [f"mel{i}_{s}" for s in ("mean", "std") for i in range(N_MELS)]
    + [
        f"{n}_{s}"
        for n in ("centroid", "rolloff", "flatness", "flux", "alpha", "hammarberg", "zcr")
        for s in ("mean", "std")
    ]
    + ["rate", "speech_ratio", "pause_ratio", "long_pauses_per_s", "mean_pause_s"]
)
N_FEATURES = len(FEATURE_NAMES)


def _octave_fix(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Fold YIN's octave jumps back towards the window's median pitch (halving/doubling
    errors would otherwise read as a very wide pitch range)."""
    if voiced.sum() < 5:
        return f0
    med = float(np.median(f0[voiced]))
    out = f0.copy()
    out = np.where(out > 1.8 * med, out / 2.0, out)
    return np.where(out < 0.55 * med, out * 2.0, out)


def speech_frames(lld: Lld, probs: np.ndarray) -> np.ndarray:
    """Boolean per LLD frame: inside a VAD speech chunk (falls back to loud frames)."""
    mask = vad.speech_mask(probs)
    centers = (np.arange(lld.n) * HOP + WIN // 2) // vad.CHUNK
    sp = mask[np.minimum(centers, len(mask) - 1)] if len(mask) else np.zeros(lld.n, bool)
    if sp.sum() < 10:  # VAD found (almost) nothing: use frames within 30 dB of the peak
        sp = lld.rms_db > lld.rms_db.max() - 30.0
    return sp


def extract(x: np.ndarray, probs: np.ndarray | None = None) -> tuple[np.ndarray, Prosody]:
    """16 kHz mono audio (and optional VAD chunk probabilities) -> (feature vector, summary)."""
    x = np.asarray(x, np.float32)
    if probs is None:
        probs = vad.speech_probs(x)
    return from_lld(extract_lld(x), probs, len(x) / SR)


def from_lld(lld: Lld, probs: np.ndarray, dur: float) -> tuple[np.ndarray, Prosody]:
    """Functionals of precomputed frame descriptors (streaming computes each block once)."""
    sp = speech_frames(lld, probs)
    mask = vad.speech_mask(probs)
    voiced = lld.voiced() & sp
    f0 = _octave_fix(lld.f0, voiced)
    st = 12.0 * np.log2(np.maximum(f0[voiced], 1.0) / 27.5)
    loud = lld.rms_db[sp]
    per = lld.periodicity[voiced]
    hnr = 10.0 * np.log10(np.clip(per, 1e-3, 0.999) / (1.0 - np.clip(per, 1e-3, 0.999)))
    # Perturbation proxies between consecutive voiced frames.
    pair = voiced[1:] & voiced[:-1]
    periods = 1.0 / np.maximum(f0, 1.0)
    jit = np.abs(np.diff(periods))[pair] / np.maximum(periods[1:][pair], 1e-6)
    amp = 10.0 ** (lld.rms_db / 20.0)
    shim = np.abs(np.diff(amp))[pair] / np.maximum(amp[1:][pair], 1e-6)
    mf = lld.mfcc[sp][:, 1:]
    dmf = _delta(lld.mfcc[:, 1:])[sp]
    speech_s = float(mask.sum() * vad.CHUNK / SR)
    span = np.flatnonzero(mask)
    gaps = vad.pauses(mask)
    span_s = (span[-1] - span[0] + 1) * vad.CHUNK / SR if len(span) else 0.0
    pause_ratio = float(sum(gaps) / span_s) if span_s > 0 else 0.0
    n_syl = _syllables(lld.rms_db, voiced)
    sp_s = max(sp.sum() * HOP / SR, 1e-3)
    rate = n_syl / sp_s
    long_p = sum(g >= LONG_PAUSE_S for g in gaps)
    norm = lld.logmel - lld.logmel.mean(axis=1, keepdims=True)
    flux = np.r_[0.0, np.sqrt(np.mean(np.diff(norm, axis=0) ** 2, axis=1))] if lld.n else norm[:, 0]
    spectral = [lld.centroid, lld.rolloff, lld.flatness, flux, lld.alpha_ratio]
    spectral += [lld.hammarberg, lld.zcr]
    vec: list[float] = [
        *_stats(st),
        float(np.mean(np.abs(np.diff(st)))) if len(st) > 1 else 0.0,
        float(voiced.sum() / max(sp.sum(), 1)),
        *_stats(loud),
        float(np.mean(np.abs(np.diff(loud)))) if len(loud) > 1 else 0.0,
        float(hnr.mean()) if len(hnr) else 0.0,
        float(hnr.std()) if len(hnr) else 0.0,
        float(jit.mean()) if len(jit) else 0.0,
        float(shim.mean()) if len(shim) else 0.0,
        *_ms(mf),
        *_ms(dmf),
        *_ms(lld.logmel[sp]),
    ]
    for arr in spectral:
        v = arr[sp]
        vec += [float(v.mean()), float(v.std())] if len(v) else [0.0, 0.0]
    vec += [rate, speech_s / max(dur, 1e-3), pause_ratio, long_p / max(dur, 1e-3)]
    vec += [float(np.mean(gaps)) if gaps else 0.0]
    f0_hz = f0[voiced]
    summary = Prosody(
        speech_s=speech_s,
        speech_ratio=speech_s / max(dur, 1e-3),
        f0_median_hz=float(np.median(f0_hz)) if len(f0_hz) else 0.0,
        f0_range_st=float(np.percentile(st, 90) - np.percentile(st, 10)) if len(st) else 0.0,
        f0_var_st=float(st.std()) if len(st) else 0.0,
        loudness_db=float(np.median(loud)) if len(loud) else -100.0,
        rate_syl_s=float(rate),
        pause_ratio=pause_ratio,
        long_pauses=int(long_p),
        jitter=float(jit.mean()) if len(jit) else 0.0,
        shimmer=float(shim.mean()) if len(shim) else 0.0,
        hnr_db=float(hnr.mean()) if len(hnr) else 0.0,
        voiced_ratio=float(voiced.sum() / max(sp.sum(), 1)),
    )
    out = np.nan_to_num(np.asarray(vec, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    assert len(out) == N_FEATURES
    return out, summary


_IDX = {n: i for i, n in enumerate(FEATURE_NAMES)}
_MEL_MEANS = np.array([_IDX[f"mel{k}_mean"] for k in range(N_MELS)])
_LEVELS = np.array([_IDX[f"loud_{s}"] for s in ("mean", "p10", "p50", "p90")])


def gain_invariant(vec: np.ndarray) -> np.ndarray:
    """Drop what depends on microphone gain: levels relative to the 90th percentile level, and
    the mel spectrum's shape without its overall level. For a clip scored with no caller history."""
    out = np.array(vec, np.float32, copy=True)
    p90 = out[..., _IDX["loud_p90"]].copy()
    out[..., _LEVELS] -= p90[..., None]
    out[..., _MEL_MEANS] -= out[..., _MEL_MEANS].mean(axis=-1, keepdims=True)
    return out
