"""Voice activity with the Silero VAD (MIT), run as ONNX with onnxruntime alone (no torch).

The model file is copied from the ``silero-vad`` 6.2.3 wheel (``silero_vad_16k_sequence.onnx``)
into ``models/artifacts/voice-vad/`` with its license. It reads 512-sample chunks at 16 kHz, each
with the last 64 samples of the previous chunk as context, and keeps an LSTM state (h, c) between
chunks. This "sequence" export scores all chunks of a call in one run (same probabilities as the
chunk-by-chunk export, checked to the last digit), which keeps the VAD's cost near zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from attune.models.runtime import artifact_dir, ort_session

CHUNK = 512  # 32 ms at 16 kHz
CONTEXT = 64
SR = 16_000
VAD_FILE = "silero_vad_16k_sequence.onnx"


@lru_cache(maxsize=1)
def _session() -> Any:
    return ort_session(artifact_dir("voice-vad") / VAD_FILE, threads=1)


@dataclass
class VadState:
    """Streaming state: the recurrent state, the context samples and any unread remainder."""

    h: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    c: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(CONTEXT, np.float32))
    rest: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


def speech_probs(samples: np.ndarray, st: VadState | None = None) -> np.ndarray:
    """Speech probability per 32 ms chunk of 16 kHz mono audio.

    With ``st`` the call continues a stream (the remainder under one chunk waits for the next
    call); without it the clip is scored on its own and a final partial chunk is zero-padded.
    """
    own = st is None
    st = st or VadState()
    x = np.concatenate([st.rest, np.asarray(samples, np.float32)])
    n = len(x) // CHUNK
    if own and len(x) % CHUNK:
        x = np.concatenate([x, np.zeros(CHUNK - len(x) % CHUNK, np.float32)])
        n += 1
    if n == 0:
        st.rest = x
        return np.zeros(0, np.float32)
    chunks = x[: n * CHUNK].reshape(n, CHUNK)
    ctx = np.concatenate([st.context[None, :], chunks[:-1, -CONTEXT:]])
    inp = np.ascontiguousarray(np.concatenate([ctx, chunks], axis=1), np.float32)
    probs, st.h, st.c = _session().run(None, {"input": inp, "h": st.h, "c": st.c})
    st.context, st.rest = chunks[-1, -CONTEXT:].copy(), x[n * CHUNK :].copy()
    out = np.asarray(probs, np.float32).reshape(n)
    return out


def speech_mask(probs: np.ndarray, on: float = 0.5, off: float = 0.35) -> np.ndarray:
    """Hysteresis on chunk probabilities: speech starts above ``on`` and ends below ``off``."""
    mask = np.zeros(len(probs), bool)
    active = False
    for i, p in enumerate(probs):
        active = p >= on if not active else p >= off
        mask[i] = active
    return mask


def pauses(mask: np.ndarray, chunk_s: float = CHUNK / SR, min_pause_s: float = 0.2) -> list[float]:
    """Lengths (s) of the silent gaps between speech chunks (leading/trailing silence excluded)."""
    idx = np.flatnonzero(mask)
    if len(idx) < 2:
        return []
    gaps = np.diff(idx) - 1
    return [g * chunk_s for g in gaps if g * chunk_s >= min_pause_s]
