"""Labelled speech for training and evaluation: CSV reading, augmentation, feature extraction.

A table is ``path,emotion[,speaker][,gender|sex][,corpus]`` with paths relative to a root folder
(the shipped corpora's metadata.csv files have that shape, with ``actor`` for RAVDESS speakers).
Audio is decoded in memory and only features are kept; nothing is written next to the audio.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attune.signals.voice.audio_io import TARGET_SR, decode_audio, resample
from attune.signals.voice.features import N_FEATURES, extract

# Spellings seen in corpora and company files -> the model's label names.
LABEL_ALIASES: dict[str, str] = {
    "angry": "anger",
    "anger": "anger",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "calm": "calm",
    "boredom": "boredom",
    "bored": "boredom",
}


class DataError(ValueError):
    """A training or evaluation table cannot be used (the message says which row and why)."""


@dataclass(slots=True)
class Row:
    path: str
    emotion: str  # canonical label, or the raw text when unknown
    speaker: str = ""
    gender: str = ""
    corpus: str = ""


def canonical(label: str) -> str:
    key = label.strip().lower()
    return LABEL_ALIASES.get(key, key)


def read_table(csv_path: Path, corpus: str = "") -> list[Row]:
    """Rows of a ``path,emotion[,speaker]`` CSV (``actor`` is read as the speaker)."""
    if not csv_path.is_file():
        raise DataError(f"no such file: {csv_path}")
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower() for c in reader.fieldnames or []}
        if not {"path", "emotion"} <= cols:
            raise DataError(f"{csv_path} needs the columns path,emotion (has {sorted(cols)})")
        rows = []
        for i, rec in enumerate(reader, start=2):
            rec = {k.strip().lower(): (v or "").strip() for k, v in rec.items() if k}
            if not rec.get("path") or not rec.get("emotion"):
                raise DataError(f"{csv_path} line {i}: empty path or emotion")
            rows.append(
                Row(
                    path=rec["path"],
                    emotion=canonical(rec["emotion"]),
                    speaker=rec.get("speaker") or rec.get("actor") or "",
                    gender=(rec.get("gender") or rec.get("sex") or "").lower(),
                    corpus=rec.get("corpus") or corpus,
                )
            )
    if not rows:
        raise DataError(f"{csv_path} has no rows")
    return rows


def clip_hash(data: bytes) -> str:
    """Short content hash of one audio file's bytes (64 bits of SHA-256), stored in a model's
    meta.json for every training clip so that ``attune eval voice`` can flag overlap."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16]


def file_hash(root: Path, rel: str) -> str:
    path = root / rel
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    return clip_hash(path.read_bytes())


def load_audio(root: Path, rel: str) -> np.ndarray:
    """Decode one file to 16 kHz mono float32 (bytes read into memory, never copied)."""
    path = root / rel
    if not path.is_file():
        raise DataError(f"audio file not found: {path}")
    samples, _, _ = decode_audio(path.read_bytes())
    return samples.mean(axis=0)


# --- augmentation (training only) ---------------------------------------------------------


def telephone(x: np.ndarray) -> np.ndarray:
    """Narrow-band telephone channel: 300-3400 Hz, through 8 kHz and back to 16 kHz."""
    from scipy.signal import butter, sosfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=TARGET_SR, output="sos")
    y = sosfilt(sos, x).astype(np.float32)
    return resample(resample(y, TARGET_SR, 8000), 8000, TARGET_SR)


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add pink-ish noise at ``snr_db`` relative to the clip's active-speech power."""
    white = rng.standard_normal(len(x)).astype(np.float32)
    spec = np.fft.rfft(white)
    spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1.0))
    noise = np.fft.irfft(spec, len(x)).astype(np.float32)
    level = np.abs(x)
    active = x[level > 0.1 * level.max()] if level.max() > 0 else x
    p_sig = float(np.mean(active**2)) + 1e-12
    p_noise = float(np.mean(noise**2)) + 1e-12
    return (x + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10)))).astype(np.float32)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch and tempo together, like tape)."""
    n = round(TARGET_SR / factor)
    return resample(x, TARGET_SR, n) if n != TARGET_SR else x


def reverb(x: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Room reverberation: convolve with a synthetic impulse response (exponentially decaying
    noise with reverberation time ``rt60`` s after a direct path), level kept."""
    from scipy.signal import fftconvolve

    n = max(int(rt60 * TARGET_SR), 16)
    t = np.arange(n) / TARGET_SR
    ir = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
    ir[0] = 0.0
    ir *= 0.5 / (np.sqrt(np.sum(ir**2)) + 1e-12)  # direct-to-reverberant ratio about +6 dB
    ir[0] = 1.0
    y = fftconvolve(x, ir)[: len(x)]
    peak = float(np.abs(y).max()) + 1e-12
    return (y * (float(np.abs(x).max()) / peak)).astype(np.float32)


def stretch(x: np.ndarray, rate: float, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """Phase-vocoder time stretch: ``rate`` > 1 is faster (shorter), pitch unchanged."""
    from scipy.signal import istft, stft

    _, _, z = stft(x, nperseg=n_fft, noverlap=n_fft - hop, boundary=None, padded=False)
    if z.shape[1] < 2:
        return x
    n_frames = z.shape[1]
    steps = np.arange(0, n_frames - 1, rate)
    steps = steps[steps < n_frames - 1]  # float steps may overshoot by a rounding error
    omega = 2 * np.pi * hop * np.arange(z.shape[0]) / n_fft
    phase = np.angle(z[:, 0])
    out = np.empty((z.shape[0], len(steps)), np.complex128)
    for k, s in enumerate(steps):
        i = min(int(s), n_frames - 2)
        frac = s - i
        mag = (1 - frac) * np.abs(z[:, i]) + frac * np.abs(z[:, i + 1])
        out[:, k] = mag * np.exp(1j * phase)
        dphi = np.angle(z[:, i + 1]) - np.angle(z[:, i]) - omega
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        phase = phase + omega + dphi
    _, y = istft(out, nperseg=n_fft, noverlap=n_fft - hop, boundary=False)
    return np.asarray(y, np.float32)


def pitch_shift(x: np.ndarray, semitones: float) -> np.ndarray:
    """Shift pitch by ``semitones`` at (about) the same duration: stretch, then resample."""
    factor = 2.0 ** (semitones / 12.0)
    y = stretch(x, 1.0 / factor)  # longer by factor
    return speed(y, factor)  # back to the original length, pitch times factor


AUGMENTS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "clean": lambda x, rng: x,
    "phone": lambda x, rng: telephone(x),
    "noise": lambda x, rng: add_noise(x, float(rng.uniform(5, 20)), rng),
    "speed": lambda x, rng: speed(x, float(rng.choice([0.9, 1.1]))),
    "slow": lambda x, rng: speed(x, 0.9),
    "fast": lambda x, rng: speed(x, 1.1),
    "phone_noise": lambda x, rng: add_noise(telephone(x), float(rng.uniform(10, 25)), rng),
    "reverb": lambda x, rng: reverb(x, float(rng.uniform(0.2, 0.7)), rng),
    "pitch": lambda x, rng: pitch_shift(x, float(rng.choice([-2.0, -1.0, 1.0, 2.0]))),
    "tempo": lambda x, rng: stretch(x, float(rng.choice([0.85, 1.15]))),
}


def featurize(
    rows: Iterable[Row],
    root: Path | Callable[[Row], Path],
    variants: tuple[str, ...] = ("clean",),
    seed: int = 0,
    progress: Callable[[], None] | None = None,
    start: int = 0,
) -> np.ndarray:
    """Feature matrix of shape (variants, rows, N_FEATURES); each row decoded once.

    Row ``i`` draws its augmentation from a generator seeded by ``seed`` and ``start + i``, so a
    table split into chunks (``start`` = the chunk's first row) gives the same features."""
    rows = list(rows)
    out = np.zeros((len(variants), len(rows), N_FEATURES), np.float32)
    for i, row in enumerate(rows):
        base = root(row) if callable(root) else root
        x = load_audio(base, row.path)
        rng = np.random.default_rng(seed * 1_000_003 + start + i)
        for j, name in enumerate(variants):
            out[j, i], _ = extract(AUGMENTS[name](x, rng))
        if progress:
            progress()
    return out


def featurize_chunk(
    rows: list[Row], roots: list[Path], variants: tuple[str, ...], seed: int, start: int
) -> tuple[int, np.ndarray]:
    """One worker's share of ``featurize`` (picklable: plain arguments, no callbacks)."""
    root_of = {id(r): root for r, root in zip(rows, roots, strict=True)}
    return start, featurize(rows, lambda r: root_of[id(r)], variants, seed, start=start)
