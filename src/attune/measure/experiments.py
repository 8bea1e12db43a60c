"""Experiment definitions, fixed before start, and deterministic assignment.

A definition names the hypothesis, the two arms (the neutral journey as control, an adaptive
playbook as treatment), the split, the primary/secondary/guardrail metrics, the hard-stop
thresholds and the minimum sample. Its ``fingerprint`` (SHA-256 of the canonical JSON) is taken
when it is registered; any later change shows as a different fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from attune.policy.assignment import (  # noqa: F401  (said once, there)
    CONTROL,
    TREATMENT,
    assign,
    bucket,
)

ARMS = (CONTROL, TREATMENT)
MetricKind = Literal["proportion", "mean"]


@dataclass(frozen=True)
class Metric:
    name: str  # an outcome name (conversion, abandonment, csat ...) or a state share
    kind: MetricKind = "proportion"
    higher_is_better: bool = True


@dataclass(frozen=True)
class Guardrail:
    """Stop the adaptive arm when ``metric`` gets worse by more than ``max_relative_change``
    (0.2 = 20 % relative) and the always-valid test says the harm is real at ``alpha``."""

    metric: str
    kind: MetricKind = "proportion"
    worse_if: Literal["increase", "decrease"] = "increase"
    max_relative_change: float = 0.2
    alpha: float = 0.05
    min_per_arm: int = 200


@dataclass(frozen=True)
class ExperimentDefinition:
    id: str
    hypothesis: str
    treatment_playbook: str  # e.g. "shop@3"
    primary: Metric
    control_journey: str = "neutral"
    moment: str | None = None
    treatment_share: float = 0.5
    secondary: tuple[Metric, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    min_sample_per_arm: int = 1000
    alpha: float = 0.05
    power: float = 0.8
    mde_relative: float = 0.1
    segments: tuple[str, ...] = ("customer_type", "device", "intensity")
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("id", "hypothesis", "treatment_playbook", "control_journey"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        if self.moment is not None and not isinstance(self.moment, str):
            raise ValueError("moment must be a string")
        if not self.id or len(self.id) > 64:
            raise ValueError("an experiment needs an id of 1..64 characters")
        if not self.hypothesis.strip():
            raise ValueError("an experiment needs a hypothesis written down before it starts")
        if not 0.0 < self.treatment_share < 1.0:
            raise ValueError(f"treatment_share must be in (0, 1), got {self.treatment_share}")
        if not 0 < self.alpha < 1 or not 0 < self.power < 1:
            raise ValueError("alpha and power must be in (0, 1)")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"a metric is listed twice: {names}")
        for g in self.guardrails:
            if g.max_relative_change <= 0:
                raise ValueError(f"guardrail {g.metric!r} needs a positive threshold")

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (self.primary, *self.secondary)

    @property
    def split(self) -> dict[str, float]:
        return {CONTROL: 1.0 - self.treatment_share, TREATMENT: self.treatment_share}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ExperimentDefinition:
        data = dict(raw)
        try:
            data["primary"] = Metric(**data["primary"])
            data["secondary"] = tuple(Metric(**m) for m in data.get("secondary", ()))
            data["guardrails"] = tuple(Guardrail(**g) for g in data.get("guardrails", ()))
            data["segments"] = tuple(data.get("segments", cls.segments))
            return cls(**data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad experiment definition: {exc}") from exc


@dataclass(frozen=True)
class Exposure:
    """A subject saw an arm (logged once per subject and experiment, at first exposure)."""

    experiment_id: str
    subject: str
    arm: str
    at: float
    session_id: str | None = None
