"""The Decision type: what the journey should do now, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attune.state.fusion import EmotionalState


@dataclass
class Decision:
    id: str
    session_id: str
    at: float
    moment: str | None
    mode: str
    tone: str | None
    offers_allowed: bool
    escalate: bool
    actions: list[str]
    content: dict[str, str]  # variant key -> resolved text (tone and locale applied)
    explanation: str
    playbook_version: str | None
    arm: str
    state: EmotionalState
    changed: bool = False  # whether this decision differs from the previous one
    reasons: list[str] = field(default_factory=list)
    # Set while escalated: why (``requested`` or the watched state), the intent, since when,
    # whether the moment is vulnerable, and what the journey already tried.
    escalation: dict[str, Any] | None = None
    # For delivery's receivers only, never in ``to_dict``: the subject, channel and locale
    # the handoff queue needs (see ``attune.engine``).
    route: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "at": self.at,
            "moment": self.moment,
            "mode": self.mode,
            "tone": self.tone,
            "offers_allowed": self.offers_allowed,
            "escalate": self.escalate,
            "actions": self.actions,
            "content": self.content,
            "explanation": self.explanation,
            "playbook_version": self.playbook_version,
            "arm": self.arm,
            "state": self.state.to_dict(),
            "changed": self.changed,
            "escalation": self.escalation,
        }
