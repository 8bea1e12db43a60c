"""Decode uploaded audio and streamed PCM16 into 16 kHz float32, one array per channel.

Everything happens in memory: bytes in, numpy arrays out. Nothing here (or anywhere in the voice
path) writes audio to disk. ``soundfile`` (libsndfile, BSD) reads WAV, FLAC and Ogg/Opus.
"""

from __future__ import annotations

import io
from math import gcd

import numpy as np

TARGET_SR = 16_000
MAX_SECONDS = 1800.0  # an upload longer than half an hour is refused rather than decoded
SUPPORTED_RATES = (8_000, 16_000)  # streaming PCM rates a client may declare
# A header's claims are checked against the bytes before anything is decoded: a rate outside
# what telephony and recording use, more frames than the bytes can hold, or more decoded
# samples than a bounded amount of memory are refused (a 7 KB WAV claiming 1 Hz would otherwise
# become an hour of audio; one claiming 1 MHz, a gigabyte).
MIN_RATE, MAX_RATE = 4_000, 192_000
MAX_DECODED_SAMPLES = 40_000_000  # all channels at 16 kHz: 160 MB of float32
MAX_FRAMES_PER_BYTE = 64  # compressed audio (FLAC, Opus) stays far below this


class AudioDecodeError(ValueError):
    """The bytes are not audio this module can read (the message says why)."""


def resample(samples: np.ndarray, sr: int, target: int = TARGET_SR) -> np.ndarray:
    """Polyphase resampling along the last axis (anti-aliased); float32 out."""
    if sr <= 0:
        raise AudioDecodeError(f"bad sample rate {sr}")
    x = np.asarray(samples, dtype=np.float32)
    if sr == target:
        return x
    from scipy.signal import resample_poly

    g = gcd(int(sr), int(target))
    return resample_poly(x, target // g, int(sr) // g, axis=-1).astype(np.float32)


def decode_audio(data: bytes, max_seconds: float = MAX_SECONDS) -> tuple[np.ndarray, int, int]:
    """WAV/FLAC/Ogg(Opus/Vorbis) bytes -> (samples, 16000, channels).

    ``samples`` is float32 with shape (channels, n): stereo call recordings keep the customer and
    the agent apart. Use ``samples.mean(axis=0)`` for a mono mix.
    """
    if not data:
        raise AudioDecodeError("empty audio upload")
    try:
        import soundfile as sf
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise AudioDecodeError(
            "decoding audio needs the 'soundfile' package: pip install 'attune[voice]'"
        ) from exc
    try:
        info = sf.info(io.BytesIO(data))
        check_claims(info.samplerate, info.channels, info.frames, len(data), max_seconds)
        x, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except AudioDecodeError:
        raise
    except Exception as exc:  # libsndfile raises its own error types and RuntimeError
        raise AudioDecodeError(
            f"could not decode audio ({exc}); send WAV, FLAC or Ogg/Opus"
        ) from exc
    if x.shape[0] == 0:
        raise AudioDecodeError("the audio holds no samples")
    channels = int(x.shape[1])
    out = resample(np.ascontiguousarray(x.T), int(sr))
    return out, TARGET_SR, channels


def check_claims(rate: int, channels: int, frames: int, n_bytes: int, max_seconds: float) -> None:
    """Refuse a header whose rate, length or decoded size does not fit the bytes sent."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioDecodeError(
            f"sample rate {rate} Hz is outside {MIN_RATE}..{MAX_RATE} Hz; send real call audio"
        )
    if channels < 1 or channels > 2:
        raise AudioDecodeError(f"audio with {channels} channels; send mono or stereo")
    if frames * channels > n_bytes * MAX_FRAMES_PER_BYTE:
        raise AudioDecodeError(f"the header claims {frames} frames, more than {n_bytes} bytes hold")
    seconds = frames / rate
    if seconds > max_seconds:
        raise AudioDecodeError(f"audio lasts {seconds:.0f} s, more than {max_seconds:.0f} s")
    if seconds * TARGET_SR * channels > MAX_DECODED_SAMPLES:
        raise AudioDecodeError("the audio would decode to more samples than allowed; send less")


def pcm16_to_float(data: bytes, channels: int = 1) -> np.ndarray:
    """Interleaved little-endian PCM16 -> float32 (channels, n) in [-1, 1)."""
    if channels < 1:
        raise AudioDecodeError(f"channels must be >= 1, got {channels}")
    frame = 2 * channels
    if len(data) % frame:
        raise AudioDecodeError(
            f"PCM16 data of {len(data)} bytes is not a whole number of {channels}-channel frames"
        )
    x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return x.reshape(-1, channels).T.copy()


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """float (channels, n) or (n,) in [-1, 1] -> interleaved PCM16 bytes (for clients and tests)."""
    x = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    pcm = np.clip(np.round(x.T * 32767.0), -32768, 32767).astype("<i2")
    return pcm.tobytes()


class Pcm16Reader:
    """Turns a stream of PCM16 byte chunks (split anywhere) into 16 kHz float32 per channel."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise AudioDecodeError(
                f"stream sample rate must be one of {SUPPORTED_RATES}, got {sample_rate}"
            )
        if channels not in (1, 2):
            raise AudioDecodeError(f"stream must have 1 or 2 channels, got {channels}")
        self.sample_rate = sample_rate
        self.channels = channels
        self._rest = b""
        # 8 kHz -> 16 kHz: zero-stuffing + a linear-phase FIR low-pass whose state carries over
        # between frames, so frame edges add no clicks (a block-wise resampler would).
        if sample_rate != TARGET_SR:
            from scipy.signal import firwin

            self._fir = (2.0 * firwin(97, 3700, fs=TARGET_SR)).astype(np.float64)
            self._zi = np.zeros((channels, len(self._fir) - 1))

    def feed(self, data: bytes) -> np.ndarray:
        buf = self._rest + data
        frame = 2 * self.channels
        cut = len(buf) - len(buf) % frame
        self._rest = buf[cut:]
        x = pcm16_to_float(buf[:cut], self.channels)
        if self.sample_rate == TARGET_SR or x.shape[1] == 0:
            return x if self.sample_rate == TARGET_SR else np.zeros((self.channels, 0), np.float32)
        from scipy.signal import lfilter

        up = np.zeros((self.channels, 2 * x.shape[1]))
        up[:, ::2] = x
        y, self._zi = lfilter(self._fir, 1.0, up, axis=1, zi=self._zi)
        return y.astype(np.float32)
