"""Experiment assignment, said once: which arm a subject is in (the engine assigns with it, the
measurement reads the same function). Deterministic: a hash of experiment id and subject."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CONTROL = "control"  # the neutral standard journey
TREATMENT = "adaptive"  # the adaptive playbook


def bucket(subject: str, experiment_id: str) -> float:
    """A stable, uniform number in [0, 1) per (experiment, subject)."""
    digest = hashlib.sha256(f"{experiment_id}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(
    subject: str, experiment_id: str, treatment_share: float = 0.5, stopped: bool = False
) -> str:
    """The arm of ``subject``; a stopped experiment sends everyone to the neutral journey."""
    if stopped:
        return CONTROL
    return TREATMENT if bucket(subject, experiment_id) < treatment_share else CONTROL


@dataclass
class Experiment:
    """The running comparison: neutral journey (control) vs adaptive playbook (adaptive)."""

    id: str
    treatment_share: float = 0.5
    stopped: bool = False  # a hard stop sends everyone to control

    def arm(self, subject: str) -> str:
        return assign(subject, self.id, self.treatment_share, self.stopped)
