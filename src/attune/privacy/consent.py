"""Consent per subject and modality. The gate asks ``allows`` before any analyzer sees an event.

Behaviour may run on legitimate interest (configurable); text defaults to consent; voice and face
are always opt-in. The in-memory view is the hot path; the store keeps the full history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALWAYS_OPT_IN = frozenset({"voice", "face"})


@dataclass
class ConsentLedger:
    legal_basis: dict[str, str] = field(default_factory=dict)
    # (subject, modality) -> granted?; absent means "never asked"
    _state: dict[tuple[str, str], bool] = field(default_factory=dict)

    def requires_consent(self, modality: str) -> bool:
        return modality in ALWAYS_OPT_IN or self.legal_basis.get(modality, "consent") == "consent"

    def set(self, subject: str, modality: str, granted: bool) -> None:
        self._state[(subject, modality)] = granted

    def allows(self, subject: str, modality: str) -> bool:
        explicit = self._state.get((subject, modality))
        if explicit is not None:
            return explicit
        return not self.requires_consent(modality)

    def forget(self, subject: str) -> None:
        for key in [k for k in self._state if k[0] == subject]:
            del self._state[key]
