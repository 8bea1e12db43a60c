"""The voice analyzer: prosody and speech emotion of the customer's channel, against the caller's
own running baseline; talk-time metrics (no emotion) for the agent's channel.

Audio arrives as ``AudioChunk``s of any length (the engine) or as PCM16 bytes (``VoiceStream``, for
the WebSocket route). Each channel is cut into 3 s windows every 1 s; a window with less than
``min_speech_s`` of speech (silence, noise, hold music the VAD rejects) yields no emotion Signal.
Audio only lives in memory, in the session's scratch space, for at most one window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from attune.events.admitted import AudioChunk, GatedEvent
from attune.models.runtime import ModelNotFound
from attune.signals.base import SessionScratch, Signal
from attune.signals.taxonomy import VOICE_TO_CX
from attune.signals.voice import emotion as emo
from attune.signals.voice.audio_io import TARGET_SR, Pcm16Reader, resample
from attune.signals.voice.baseline import describe
from attune.signals.voice.features import from_lld
from attune.signals.voice.stream import Channel, Window, overlap_s

SCRATCH_KEY = "voice"
ROLES = ("customer", "agent")


@dataclass
class _Session:
    channels: dict[str, Channel] = field(default_factory=dict)

    def channel(self, role: str) -> Channel:
        if role not in self.channels:
            self.channels[role] = Channel()
        return self.channels[role]


class VoiceAnalyzer:
    modality: ClassVar[str] = "voice"
    version: ClassVar[str] = "1"

    def __init__(self, min_speech_s: float = 1.0, model_name: str = emo.MODEL_NAME) -> None:
        self.min_speech_s = min_speech_s
        self.model: emo.EmotionModel | None = None
        try:
            self.model = emo.EmotionModel(model_name)
            self.source = f"voice/prosody@{self.model.version}"
        except ModelNotFound as exc:
            # No speech-emotion model (its research licence is off by default): the prosody
            # indicators against the caller's own baseline still run, from code and the VAD.
            self.without_model = str(exc)
            self.source = f"voice/prosody-only@{self.version}"

    # --- the engine's entry point ------------------------------------------------------------
    def analyze(self, event: GatedEvent, scratch: SessionScratch) -> list[Signal]:
        chunk = event.payload
        if event.kind != "voice" or not isinstance(chunk, AudioChunk):
            return []  # another modality's event
        if chunk.role not in ROLES:
            raise ValueError(f"audio role must be one of {ROLES}, got {chunk.role!r}")
        x = np.asarray(chunk.samples, np.float32)
        if x.ndim != 1:
            raise ValueError("AudioChunk.samples must be mono (split stereo per channel first)")
        x = resample(x, int(chunk.sample_rate))
        end_at = event.at  # the chunk's time: taken as the moment its last sample arrived
        return self.feed(scratch, chunk.role, x, end_at)

    def feed(
        self, scratch: SessionScratch, role: str, x: np.ndarray, end_at: float
    ) -> list[Signal]:
        """16 kHz samples of one channel -> Signals of the windows that closed."""
        sess: _Session = scratch.setdefault(SCRATCH_KEY, _Session())
        ch = sess.channel(role)
        windows = ch.feed(x)
        return self._score(sess, role, ch, windows, end_at)

    def flush(self, scratch: SessionScratch, end_at: float) -> list[Signal]:
        """End of a call: score a short stream that never filled one window."""
        sess: _Session | None = scratch.get(SCRATCH_KEY)
        if sess is None:
            return []
        out: list[Signal] = []
        for role, ch in sess.channels.items():
            w = ch.flush()
            if w is not None:
                out += self._score(sess, role, ch, [w], end_at)
        return out

    # --- per window ---------------------------------------------------------------------------
    def _score(
        self, sess: _Session, role: str, ch: Channel, windows: list[Window], end_at: float
    ) -> list[Signal]:
        out: list[Signal] = []
        for w in windows:
            at = end_at - (ch.received - w.end) / TARGET_SR
            dur = (w.end - w.start) / TARGET_SR
            talk = min(float(w.speech.sum() * 512 / TARGET_SR), dur)  # chunks overhang a little
            other = sess.channels.get("agent" if role == "customer" else "customer")
            ovl = min(overlap_s(ch, other, w.start, w.end), talk) if other else 0.0
            metrics = {
                "window_s": round(dur, 3),
                "talk_s": round(talk, 3),
                "silence_s": round(max(dur - talk, 0.0), 3),
                "overlap_s": round(ovl, 3),
            }
            if role == "agent":
                out.append(self._agent_signal(metrics, at))
                continue
            sig = self._customer_signals(ch, w, dur, metrics, at)
            out += sig
        return out

    def _agent_signal(self, metrics: dict[str, Any], at: float) -> Signal:
        share = metrics["talk_s"] / max(metrics["window_s"], 1e-6)
        return Signal(
            modality="voice",
            name="agent_talk",
            value=min(max(share, 0.0), 1.0),
            confidence=1.0,
            evidence=(
                f"agent spoke {metrics['talk_s']:.1f} s of {metrics['window_s']:.0f} s, "
                f"{metrics['overlap_s']:.1f} s over the customer"
            ),
            at=at,
            cx={},  # agent audio never carries emotion into the customer's state
            source=self.source,
            details={"role": "agent", **metrics},
        )

    def _customer_signals(
        self, ch: Channel, w: Window, dur: float, metrics: dict[str, Any], at: float
    ) -> list[Signal]:
        if metrics["talk_s"] < self.min_speech_s:
            return []  # silence or noise: say nothing rather than guess
        vec, pros = from_lld(w.lld, w.probs, dur)
        if self.model is None:
            return [self._prosody_signal(ch, vec, pros, metrics, at)]
        n = ch.baseline.n  # windows in the caller's baseline before this one
        probs = self.model.for_caller(vec, ch.baseline)
        dev = ch.baseline.deviations(pros)
        ch.baseline.update(vec, pros)
        top = emo.summary(probs)
        coverage = min(1.0, metrics["talk_s"] / 2.0)
        conf = top["p"] * coverage * (1.0 if ch.baseline.ready else 0.6)
        cx = _cx(probs)
        words = describe(dev, pros)
        details = {
            "role": "customer",
            "probs": {k: round(v, 4) for k, v in probs.items()},
            "arousal": round(top["arousal"], 4),
            "valence": round(top["valence"], 4),
            "prosody": pros.to_dict(),
            "baseline_deviation": {k: round(v, 2) for k, v in dev.items()},
            "baseline_windows": n,
            "speaker_head_weight": round(emo.speaker_weight(n), 3),
            **metrics,
        }
        emotion = Signal(
            modality="voice",
            name="emotion",
            value=top["p"],
            confidence=conf,
            evidence=f"voice sounds {top['label']} ({top['p']:.0%}): {words}",
            at=at,
            cx=cx,
            source=self.source,
            details={"label": top["label"], **details},
        )
        arousal = Signal(
            modality="voice",
            name="arousal",
            value=top["arousal"],
            confidence=conf * 0.5,  # derived from the same probabilities: counts half
            evidence=f"vocal arousal {top['arousal']:.2f}, valence {top['valence']:.2f}: {words}",
            at=at,
            cx=cx,
            source=self.source,
            details={"valence": round(top["valence"], 4), "label": top["label"]},
        )
        return [emotion, arousal]

    def _prosody_signal(
        self, ch: Channel, vec: Any, pros: Any, metrics: dict[str, Any], at: float
    ) -> Signal:
        """Prosody indicators only (no emotion model): arousal against the caller's baseline."""
        dev = ch.baseline.deviations(pros)
        ch.baseline.update(vec, pros)
        value = _arousal_index(dev)
        lift = max(0.0, 2.0 * value - 1.0)  # how far above their usual voice
        cx = {"frustrated": 0.5 * lift, "anxious": 0.5 * lift, "neutral": 1.0 - lift}
        coverage = min(1.0, metrics["talk_s"] / 2.0)
        conf = 0.35 * coverage * (1.0 if ch.baseline.ready and dev else 0.3)
        return Signal(
            modality="voice",
            name="arousal",
            value=value,
            confidence=conf,
            evidence=f"vocal arousal {value:.2f} against this caller's baseline: "
            + describe(dev, pros),
            at=at,
            cx=cx,
            source=self.source,
            details={
                "role": "customer",
                "prosody": pros.to_dict(),
                "baseline_deviation": {k: round(v, 2) for k, v in dev.items()},
                "emotion_model": "off",
                **metrics,
            },
        )


def _arousal_index(dev: dict[str, float]) -> float:
    """Vocal arousal from this caller's own baseline alone, in [0, 1] (0.5 = their usual voice):
    pitch, loudness and speaking rate above their usual raise it. A heuristic, not a model."""
    z = (
        dev.get("pitch_pct", 0.0) / 30.0
        + dev.get("loudness_db", 0.0) / 6.0
        + dev.get("rate_pct", 0.0) / 25.0
    ) / 3.0
    return float(1.0 / (1.0 + np.exp(-2.0 * z)))


def _cx(probs: dict[str, float]) -> dict[str, float]:
    from attune.signals.taxonomy import to_cx

    return to_cx(probs, VOICE_TO_CX)


class VoiceStream:
    """A live call over WebSocket: PCM16 frames in, Signals out, nothing stored.

    ``VoiceStream(sample_rate=8000, channels=2, customer_channel=0)``; ``feed(pcm16_bytes)`` after
    each frame (any size, split anywhere); ``close()`` at the end. With one channel, that channel
    is the customer. Signals are stamped with wall-clock time unless ``clock`` is given.
    """

    def __init__(
        self,
        sample_rate: int,
        channels: int = 1,
        customer_channel: int = 0,
        analyzer: VoiceAnalyzer | None = None,
        clock: Any = time.time,
    ) -> None:
        if channels == 2 and customer_channel not in (0, 1):
            raise ValueError(f"customer_channel must be 0 or 1, got {customer_channel}")
        self.reader = Pcm16Reader(sample_rate, channels)
        self.analyzer = analyzer or VoiceAnalyzer()
        self.customer_channel = customer_channel if channels == 2 else 0
        self.scratch = SessionScratch()
        self.clock = clock
        self.closed = False

    def feed(self, pcm16: bytes) -> list[Signal]:
        if self.closed:
            raise RuntimeError("this voice stream is closed")
        x = self.reader.feed(pcm16)
        now = float(self.clock())
        out: list[Signal] = []
        for idx in range(x.shape[0]):
            role = "customer" if idx == self.customer_channel else "agent"
            out += self.analyzer.feed(self.scratch, role, x[idx], now)
        return out

    def close(self) -> list[Signal]:
        """Score a stream too short for one full window, then drop all state (audio included)."""
        if self.closed:
            return []
        out = self.analyzer.flush(self.scratch, float(self.clock()))
        self.scratch.clear()
        self.closed = True
        return out

    def metrics(self) -> dict[str, float]:
        """Talk time per role and overlap so far, in seconds (no emotion)."""
        sess: _Session | None = self.scratch.get(SCRATCH_KEY)
        if sess is None:
            return {"customer_talk_s": 0.0, "agent_talk_s": 0.0, "overlap_s": 0.0}
        for ch in sess.channels.values():
            ch.run_vad()  # the VAD runs per closed block: catch up on the audio since
        talk = {r: sum(c.speech) * 512 / TARGET_SR for r, c in sess.channels.items()}
        a, b = sess.channels.get("customer"), sess.channels.get("agent")
        ovl = overlap_s(a, b, 0, min(a.received, b.received)) if a and b else 0.0
        return {
            "customer_talk_s": round(talk.get("customer", 0.0), 3),
            "agent_talk_s": round(talk.get("agent", 0.0), 3),
            "overlap_s": round(ovl, 3),
        }
