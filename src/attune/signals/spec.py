"""What the rest of Attune needs to know about a modality, said once: the ``ModalitySpec``.

Consent, the gate, fusion, retention, revocation, subject rights, the API and the CLI all read
the registry of specs (``attune.signals.registry``) instead of naming modalities themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from attune.signals.taxonomy import validate_table

LegalBasis = Literal["consent", "legitimate_interest", "contract"]
# Which retention setting (``Settings.retention``) governs a modality's raw data.
RetentionClass = Literal["raw_events_s", "text_s", "audio_features_s"]


@dataclass(frozen=True)
class ModalitySpec:
    name: str
    event_kinds: tuple[str, ...]  # gated event kinds its analyzer reads (``GatedEvent.kind``)
    analyzer: str  # "module:factory", imported only when the modality is switched on
    extra: str | None = None  # the pip extra its optional dependencies come with
    # Biometric modalities (voice, face) are always opt-in, whatever the legal-basis setting,
    # and need the AI Act disclosure acknowledged first (Art. 50(3)).
    biometric: bool = False
    legal_basis: LegalBasis = "consent"  # the default; operators may change it unless biometric
    reliability: float = 0.5  # weight of its evidence in fusion, in [0, 1]
    half_life_s: float = 60.0  # how fast its evidence fades from the live state
    # label -> CX-state weights of its model(s), as in ``attune.signals.taxonomy``
    label_tables: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    raw_kinds: tuple[str, ...] = ()  # stored event kinds holding its raw data (purged on revoke)
    retention: RetentionClass = "raw_events_s"
    # Live streams to close on revoke or erasure (voice calls, video); False for single events.
    streams: bool = False
    # "module:function" reading an event of this modality that has no consent, for a service
    # the person asked for, never for emotion: its signals carry no CX evidence and none of the
    # content (text: an explicit request for a person still reaches one). None: nothing is read.
    unconsented: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.reliability <= 1.0 or self.half_life_s <= 0:
            raise ValueError(f"{self.name}: reliability in [0, 1] and a positive half-life")
        if self.biometric and self.legal_basis != "consent":
            raise ValueError(f"{self.name}: a biometric modality is always opt-in (consent)")
        for table_name, table in self.label_tables.items():
            validate_table(f"{self.name}.{table_name}", table)
