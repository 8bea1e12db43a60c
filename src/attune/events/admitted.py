"""What leaves the gate: an event that passed auth, schema, dedupe, pseudonymisation and the
consent check, in the form analyzers and the rest of the flow read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# "behaviour", "message", "outcome", "feedback", "voice", "frame", "identify", or the kind
# of an observation for a modality registered without an event type of its own
Kind = str


@dataclass(slots=True)
class GatedEvent:
    kind: Kind
    event_id: str
    subject: str  # pseudonym (HMAC), never the raw id
    session_id: str
    at: float  # epoch seconds
    moment: str | None
    channel: str | None
    payload: Any  # the typed schema (Track, PageView, Message, ...) or a media chunk
    locale: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AudioChunk:
    """Decoded audio for the voice analyzer: float32 mono at ``sample_rate`` (16 kHz)."""

    samples: Any  # numpy.ndarray[float32]
    sample_rate: int
    role: Literal["customer", "agent"] = "customer"
    transcript: str | None = None


@dataclass(slots=True)
class Frame:
    """A decoded video frame for the face analyzer (numpy BGR uint8), never stored."""

    image: Any
