"""Windowing of one audio channel for live analysis: 1 s blocks, 3 s windows, hop 1 s.

Each 1 s block's frame descriptors and VAD probabilities are computed once, when the block is
complete, and a window is the last three blocks joined; so the cost per second of audio is one
second of feature extraction however much the windows overlap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from attune.signals.voice import vad
from attune.signals.voice.baseline import Baseline
from attune.signals.voice.lld import HOP, SR, WIN, Lld, extract_lld

BLOCK = SR  # one second
LOOKAHEAD = WIN - HOP  # samples past the block the last frames of a block need


@dataclass(slots=True)
class Window:
    start: int  # sample index (channel stream time) where the window starts
    end: int
    lld: Lld
    probs: np.ndarray  # VAD probability per 32 ms chunk in the window
    speech: np.ndarray  # VAD decision per chunk (hysteresis over the whole stream)


@dataclass
class Channel:
    """Stream state of one channel (customer or agent) of one session."""

    window_blocks: int = 3
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    consumed: int = 0  # samples already turned into blocks
    received: int = 0
    emitted: int = 0  # windows produced so far
    vad_state: vad.VadState = field(default_factory=vad.VadState)
    unheard: list[np.ndarray] = field(default_factory=list)  # samples the VAD has not read yet
    probs: list[float] = field(default_factory=list)  # recent VAD chunks (from probs_offset)
    probs_offset: int = 0  # stream chunk index of probs[0]; older ones are dropped
    speech: bytearray = field(default_factory=bytearray)  # 1 = speech, per VAD chunk
    blocks: deque[Lld] = field(default_factory=deque)
    baseline: Baseline = field(default_factory=Baseline)
    _active: bool = False

    def feed(self, x: np.ndarray) -> list[Window]:
        """Append 16 kHz samples; return the windows that closed."""
        x = np.asarray(x, np.float32)
        self.received += len(x)
        self.unheard.append(x)
        self.pending = np.concatenate([self.pending, x])
        out: list[Window] = []
        while len(self.pending) >= BLOCK + LOOKAHEAD:
            self.run_vad()
            self.blocks.append(extract_lld(self.pending[: BLOCK + LOOKAHEAD]))
            self.pending = self.pending[BLOCK:]
            self.consumed += BLOCK
            if len(self.blocks) > self.window_blocks:
                self.blocks.popleft()
            if len(self.blocks) == self.window_blocks:
                out.append(
                    self._window(list(self.blocks), self.window_blocks * BLOCK, self.consumed)
                )
        return out

    def run_vad(self) -> None:
        """Score the samples received since the last run with the VAD.

        Runs when a block closes (or another channel's window needs this one's speech), not on
        every frame: the probabilities are only read then, and onnxruntime's cost per call, not
        per chunk, dominated the live path with one run per 20 ms frame. The LSTM state and the
        context carry over, so the probabilities do not depend on how the audio was split.
        """
        if not self.unheard:
            return
        x = np.concatenate(self.unheard)
        self.unheard.clear()
        for p in vad.speech_probs(x, self.vad_state):
            # Same hysteresis as vad.speech_mask, carried across calls.
            self._active = p >= (0.35 if self._active else 0.5)
            self.probs.append(float(p))
            self.speech.append(1 if self._active else 0)

    def flush(self, min_samples: int = SR) -> Window | None:
        """At the end of a stream: the whole stream as one window, if it never filled a window
        (a short stream) and holds at least ``min_samples``; so nothing is scored twice."""
        if self.emitted or self.received < min_samples:
            return None
        self.run_vad()
        parts = [*self.blocks]
        if len(self.pending) >= WIN:
            parts.append(extract_lld(self.pending))
        if not parts:
            return None
        end = self.consumed + len(self.pending)
        return self._window(parts, end, end)

    def _window(self, parts: list[Lld], length: int, end: int) -> Window:
        self.emitted += 1
        start = max(end - length, 0)
        c0, c1 = start // vad.CHUNK, max(end // vad.CHUNK, start // vad.CHUNK + 1)
        probs = np.asarray(self.probs[c0 - self.probs_offset : c1 - self.probs_offset], np.float32)
        # Later windows start later: older VAD probabilities are no longer needed.
        keep_from = max(c0, 0)
        if keep_from > self.probs_offset:
            del self.probs[: keep_from - self.probs_offset]
            self.probs_offset = keep_from
        speech = np.frombuffer(bytes(self.speech[c0:c1]), np.uint8).astype(bool)
        return Window(start, end, Lld.concat(parts), probs, speech)


def overlap_s(a: Channel, b: Channel, start: int, end: int) -> float:
    """Seconds in [start, end) where both channels were speaking (VAD chunks, aligned streams)."""
    a.run_vad()
    b.run_vad()
    c0, c1 = start // vad.CHUNK, end // vad.CHUNK
    sa = np.frombuffer(bytes(a.speech[c0:c1]), np.uint8)
    sb = np.frombuffer(bytes(b.speech[c0:c1]), np.uint8)
    n = min(len(sa), len(sb))
    return float(np.sum(sa[:n] & sb[:n]) * vad.CHUNK / SR)
