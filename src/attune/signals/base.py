"""The Signal type and the analyzer interface every modality implements.

A Signal is one normalised observation from one analyzer. Besides its own value it carries
``cx``: how strongly the observation points at each customer-experience state (see
``attune.signals.taxonomy``). Fusion only ever reads ``cx``, ``value``, ``confidence`` and
``modality``, so a new analyzer plugs in without touching fusion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(slots=True)
class Signal:
    modality: str
    name: str
    value: float  # in [0, 1]
    confidence: float  # in [0, 1]
    evidence: str  # a sentence a person can read: "4 clicks in 0.8 s on #pay"
    at: float  # event time, epoch seconds
    cx: dict[str, float] = field(default_factory=dict)  # weight per CX state, each in [0, 1]
    source: str = ""  # analyzer and model version, e.g. "behaviour/rage_click@1"
    details: dict[str, Any] = field(default_factory=dict)  # machine-readable extras

    def to_dict(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "name": self.name,
            "value": round(self.value, 4),
            "confidence": round(self.confidence, 4),
            "evidence": self.evidence,
            "at": self.at,
            "cx": {k: round(v, 4) for k, v in self.cx.items()},
            "source": self.source,
            "details": self.details,
        }


class SessionScratch(dict[str, Any]):
    """Per-session working memory an analyzer may keep between events (keyed by analyzer)."""


class Analyzer(Protocol):
    """One analyzer per modality. ``analyze`` must be pure with respect to the outside world:
    no I/O, only the event, the session scratch space and the analyzer's own loaded model."""

    modality: ClassVar[str]
    version: ClassVar[str]

    def analyze(self, event: Any, scratch: SessionScratch) -> list[Signal]: ...
