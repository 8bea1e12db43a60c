"""Per-session fusion of signals from any modality into one EmotionalState.

Pure: plain data in, plain data out. Each signal adds evidence ``reliability[modality] x
confidence x value x cx[state]`` to its modality's bucket; buckets decay with a per-modality
half-life; a neutral prior keeps thin evidence close to neutral. The state is ``uncertain``
when evidence is thin, when the two strongest states are close, or when modalities disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from functools import partial
from typing import Any

from attune.signals import registry
from attune.signals.base import Signal
from attune.signals.taxonomy import CX_STATES, NEGATIVE_STATES

_IDX = {s: i for i, s in enumerate(CX_STATES)}
_NEUTRAL = _IDX["neutral"]


@dataclass(frozen=True)
class FusionConfig:
    # per modality, from each modality's spec unless given
    reliability: dict[str, float] = field(
        default_factory=lambda: {m.name: m.reliability for m in registry.specs()}
    )
    half_life_s: dict[str, float] = field(
        default_factory=lambda: {m.name: m.half_life_s for m in registry.specs()}
    )
    neutral_prior: float = 0.4
    bucket_cap: float = 4.0  # evidence per modality and state saturates here
    min_evidence: float = 0.3  # less total evidence than this is "thin"
    close_margin: float = 0.08  # top two states closer than this are "conflicting"
    max_moved_by: int = 5


MovedBy = list[dict[str, Any]]


@dataclass
class EmotionalState:
    probs: dict[str, float]
    top: str
    intensity: float
    confidence: float
    uncertain: bool
    uncertain_reason: str | None
    # The signals that moved the state, strongest first: a list, or a function that makes it
    # when first read (most states are never explained, and ranking them is most of the cost).
    signals: InitVar[MovedBy | Callable[[], MovedBy]]
    at: float
    _moved: Any = field(init=False, repr=False, compare=False)
    _dict: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self, signals: MovedBy | Callable[[], MovedBy]) -> None:
        self._moved = signals

    @property
    def moved_by(self) -> MovedBy:
        if callable(self._moved):
            self._moved = self._moved()
        moved: MovedBy = self._moved
        return moved

    def to_dict(self) -> dict[str, Any]:
        if self._dict is None:  # a state is immutable once read; many decisions share it
            self._dict = self._as_dict()
        return self._dict

    def _as_dict(self) -> dict[str, Any]:
        return {
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
            "top": self.top,
            "intensity": round(self.intensity, 4),
            "confidence": round(self.confidence, 4),
            "uncertain": self.uncertain,
            "uncertain_reason": self.uncertain_reason,
            "moved_by": self.moved_by,
            "at": self.at,
        }


@dataclass
class FusionState:
    """What fusion remembers about one session."""

    buckets: dict[str, list[float]] = field(default_factory=dict)  # modality -> per-state evidence
    updated_at: float | None = None
    recent: list[tuple[float, float, Signal]] = field(default_factory=list)  # (at, weight, signal)
    # (at, reason) while the latest customer text could not be read (e.g. its language is
    # not supported): the state must not read as a confident neutral from that silence
    unread: tuple[float, str] | None = None


class Fusion:
    def __init__(self, config: FusionConfig | None = None) -> None:
        self.cfg = config or FusionConfig()

    def _decay(self, fs: FusionState, now: float) -> None:
        if fs.updated_at is None or now <= fs.updated_at:
            fs.updated_at = now if fs.updated_at is None else fs.updated_at
            return
        dt = now - fs.updated_at
        for modality, bucket in fs.buckets.items():
            factor = 0.5 ** (dt / self.cfg.half_life_s.get(modality, 60.0))
            for i in range(len(bucket)):
                bucket[i] *= factor
        fs.updated_at = now

    def update(self, fs: FusionState, signals: list[Signal], now: float) -> EmotionalState:
        """Decay to ``now``, add the signals, and return the fused state."""
        self._decay(fs, now)
        cfg = self.cfg
        for sig in signals:
            if sig.modality == "text" and sig.name == "emotion":
                reason = (
                    sig.details.get("uncertain_reason") if sig.details.get("uncertain") else None
                )
                fs.unread = (sig.at, str(reason)) if reason else None
            weight = cfg.reliability.get(sig.modality, 0.5) * sig.confidence * sig.value
            if weight <= 0 or not sig.cx:
                continue
            bucket = fs.buckets.setdefault(sig.modality, [0.0] * len(CX_STATES))
            for state, share in sig.cx.items():
                i = _IDX[state]
                bucket[i] = min(cfg.bucket_cap, bucket[i] + weight * share)
            fs.recent.append((sig.at, weight, sig))
        if len(fs.recent) > 32:
            del fs.recent[:-32]
        return self.read(fs, now)

    def forget_modality(self, fs: FusionState, modality: str) -> bool:
        """Drop a modality's evidence (its consent was withdrawn). True if there was any."""
        had = fs.buckets.pop(modality, None) is not None
        kept = [r for r in fs.recent if r[2].modality != modality]
        had |= len(kept) != len(fs.recent)
        fs.recent = kept
        return had

    def read(self, fs: FusionState, now: float) -> EmotionalState:
        cfg = self.cfg
        self._decay(fs, now)
        totals = [0.0] * len(CX_STATES)
        leaders: dict[str, str] = {}
        for modality, bucket in fs.buckets.items():
            for i, v in enumerate(bucket):
                totals[i] += v
            if max(bucket) > cfg.min_evidence:
                leaders[modality] = CX_STATES[max(range(len(bucket)), key=bucket.__getitem__)]
        evidence = sum(totals)
        scores = totals[:]
        scores[_NEUTRAL] += cfg.neutral_prior
        norm = sum(scores)
        probs = {s: scores[i] / norm for i, s in enumerate(CX_STATES)}
        ranked = sorted(probs, key=probs.__getitem__, reverse=True)
        top, second = ranked[0], ranked[1]
        reason = None
        unread = fs.unread
        if unread is not None and now - unread[0] < 2 * cfg.half_life_s.get("text", 60.0):
            # the newest message said nothing Attune could read: whatever older evidence
            # says, the state is not sure (and a neutral from no evidence is not calm)
            reason = f"text not read: {unread[1]}"
        elif evidence < cfg.min_evidence:
            reason = "thin evidence"
        elif "neutral" not in (top, second) and probs[top] - probs[second] < cfg.close_margin:
            reason = f"{top} and {second} are nearly equally likely"
        else:
            kinds = {("negative" if s in NEGATIVE_STATES else s) for s in leaders.values()}
            if "negative" in kinds and "satisfied" in kinds:
                reason = "modalities disagree: " + ", ".join(
                    f"{m} reads {s}" for m, s in sorted(leaders.items())
                )
        confidence = (evidence / (evidence + 1.0)) * (0.5 if reason else 1.0)
        intensity = 0.0 if top == "neutral" else probs[top]
        return EmotionalState(
            probs=probs,
            top=top,
            intensity=intensity,
            confidence=confidence,
            uncertain=reason is not None,
            uncertain_reason=reason,
            signals=partial(self._moved_by, list(fs.recent), now),
            at=now,
        )

    def _moved_by(self, recent: list[tuple[float, float, Signal]], now: float) -> MovedBy:
        cfg = self.cfg
        weighted = []
        for at, weight, sig in recent:
            age = max(0.0, now - at)
            current = weight * 0.5 ** (age / cfg.half_life_s.get(sig.modality, 60.0))
            if current > 0.02:
                weighted.append((current, sig))
        weighted.sort(key=lambda x: x[0], reverse=True)
        return [
            {
                "modality": s.modality,
                "name": s.name,
                "source": s.source,
                "evidence": s.evidence,
                "weight": round(w, 3),
                "at": s.at,
            }
            for w, s in weighted[: cfg.max_moved_by]
        ]
