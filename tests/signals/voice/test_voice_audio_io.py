"""Decoding uploads and streamed PCM16 into 16 kHz float32 per channel (all in memory)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from attune.signals.voice.audio_io import (
    AudioDecodeError,
    Pcm16Reader,
    decode_audio,
    float_to_pcm16,
    pcm16_to_float,
)


def _tone(sr: int, seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _encode(x: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "subtype", "sr"),
    [
        ("WAV", "PCM_16", 8000),
        ("WAV", "FLOAT", 44100),
        ("FLAC", None, 16000),
        ("OGG", "OPUS", 48000),
    ],
)
def test_decodes_common_formats_to_16k(fmt: str, subtype: str | None, sr: int) -> None:
    data = _encode(_tone(sr), sr, fmt, subtype)
    x, out_sr, channels = decode_audio(data)
    assert out_sr == 16000 and channels == 1 and x.dtype == np.float32
    assert x.shape[0] == 1 and abs(x.shape[1] - 16000) <= 400  # Opus adds a little padding
    spec = np.abs(np.fft.rfft(x[0, 2000:14000]))
    peak_hz = np.argmax(spec) * 16000 / 12000
    assert abs(peak_hz - 440) < 5


def test_stereo_keeps_channels_apart() -> None:
    left, right = _tone(16000, hz=300), np.zeros(16000, np.float32)
    data = _encode(np.stack([left, right], axis=1), 16000, "WAV", "PCM_16")
    x, _, channels = decode_audio(data)
    assert channels == 2 and x.shape == (2, 16000)
    assert np.abs(x[0]).max() > 0.25 and np.abs(x[1]).max() == 0.0


@pytest.mark.parametrize("bad", [b"", b"not audio at all" * 10, b"RIFF\x00\x00"])
def test_bad_bytes_give_a_clear_error(bad: bytes) -> None:
    with pytest.raises(AudioDecodeError, match="audio"):
        decode_audio(bad)


def test_too_long_upload_is_refused_before_decoding() -> None:
    data = _encode(np.zeros(16000 * 3, np.float32), 16000, "WAV", "PCM_16")
    with pytest.raises(AudioDecodeError, match="more than"):
        decode_audio(data, max_seconds=2)


def test_pcm16_round_trip_and_interleaving() -> None:
    x = np.stack([np.linspace(-0.5, 0.5, 50), np.linspace(0.5, -0.5, 50)]).astype(np.float32)
    back = pcm16_to_float(float_to_pcm16(x), channels=2)
    assert back.shape == (2, 50)
    assert np.allclose(back, x, atol=1e-4)
    with pytest.raises(AudioDecodeError, match="whole number"):
        pcm16_to_float(b"\x00\x01\x02", channels=2)


def test_stream_reader_handles_frames_split_anywhere_and_8k() -> None:
    x = _tone(8000, seconds=2.0, hz=200)
    pcm = float_to_pcm16(x)
    reader = Pcm16Reader(8000, 1)
    pieces = [reader.feed(pcm[i : i + 333]) for i in range(0, len(pcm), 333)]  # odd byte splits
    y = np.concatenate(pieces, axis=1)[0]
    assert abs(len(y) - 32000) <= 64
    spec = np.abs(np.fft.rfft(y[4000:28000]))
    assert abs(np.argmax(spec) * 16000 / 24000 - 200) < 3
    assert np.percentile(np.abs(y[1000:30000]), 99) < 0.32
    # Frame edges must not click: nothing above the 8 kHz stream's 4 kHz band appears.
    power = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / 16000)
    assert power[freqs > 4200].sum() / power.sum() < 1e-4


def test_stream_reader_rejects_unsupported_formats() -> None:
    with pytest.raises(AudioDecodeError, match="sample rate"):
        Pcm16Reader(44100, 1)
    with pytest.raises(AudioDecodeError, match="channels"):
        Pcm16Reader(16000, 3)
