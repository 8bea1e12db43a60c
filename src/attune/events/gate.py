"""The gate: nothing reaches an analyzer before it passed here.

Order: (auth happens in the API) -> schema (already parsed) -> dedupe by messageId ->
pseudonymise the subject (carrying consent over from a retired key) -> drop late events of an
erased subject -> redact PII from text, properties and URLs -> consent per modality. An event
whose modality is not consented still flows (the journey keeps working in its standard form) but
is marked so that no analyzer sees it; nor does an agent's turn in a transcript (an employee).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attune.events.admitted import GatedEvent, Kind
from attune.events.schemas import (
    Feedback,
    Identify,
    Message,
    Observation,
    Outcome,
    PageView,
    Screen,
    Track,
)
from attune.privacy.consent import ConsentLedger
from attune.privacy.pseudonym import Pseudonymizer
from attune.privacy.redaction import redact, redact_event


class RecentIds:
    """Bounded memory of recently seen event ids (the store's primary key backs it up)."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """True if already seen; otherwise remember it."""
        if event_id in self._ids:
            return True
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return False

    def forget(self, event_id: str) -> None:
        self._ids.pop(event_id, None)

    def preload(self, event_ids: list[str]) -> None:
        """Ids already stored (oldest first): a replay after a restart is still a duplicate."""
        for event_id in event_ids[-self.capacity :]:
            self._ids[event_id] = None


@dataclass
class GateResult:
    event: GatedEvent | None  # None: accepted but not processed (see ``dropped``)
    analyze: bool  # False: no consent for this modality, analyzers must not see it
    dropped: str = "duplicates"  # why ``event`` is None: a replayed messageId, or "erased"
    withheld: bool = False  # its modality has no consent: nothing of its content is stored


class Gate:
    def __init__(
        self,
        pseudonymize: Pseudonymizer,
        consent: ConsentLedger,
        modality_of_kind: Callable[[str], str | None],
        recent: RecentIds | None = None,
    ) -> None:
        self.pseudonymize = pseudonymize
        self.consent = consent
        # which modality's consent an event kind needs (the modality registry answers)
        self.modality_of_kind = modality_of_kind
        self.recent = recent or RecentIds()
        self.blocked_subjects: set[str] = set()  # pseudonyms never analysed (employees, erased)

    def admit(self, ev: Any) -> GateResult:
        if self.recent.seen(ev.message_id):
            return GateResult(None, False)
        subject = self._subject(ev.raw_subject)
        if self.consent.is_tombstoned(subject):
            return GateResult(None, False, dropped="erased")
        redact_event(ev)  # properties, URLs and extra fields: only what looks like PII
        kind: Kind
        analyze = True
        if isinstance(ev, Track | PageView | Screen):
            kind = "behaviour"
        elif isinstance(ev, Message):
            kind = "message"
            ev.text = redact(ev.text, ev.context.locale)
            analyze = ev.speaker == "customer"  # never an agent's (an employee) nor a bot's
        elif isinstance(ev, Outcome):
            kind = "outcome"
        elif isinstance(ev, Feedback):
            kind = "feedback"
        elif isinstance(ev, Identify):
            kind = "identify"
        elif isinstance(ev, Observation):
            kind = ev.kind  # a registered modality reads it; unknown kinds are never analysed
        else:  # pragma: no cover - the API only hands over the types above
            raise TypeError(f"unsupported event type {type(ev).__name__}")
        ctx = ev.context
        gated = GatedEvent(
            kind=kind,
            event_id=ev.message_id,
            subject=subject,
            session_id=ev.session_id or ctx.session_id or f"subject:{subject}",
            at=ev.epoch,
            moment=ctx.moment,
            channel=ctx.channel,
            payload=ev,
            locale=ctx.locale,
        )
        consented = self.may_analyze(subject, kind)
        withheld = not consented and self.modality_of_kind(kind) is not None
        return GateResult(gated, analyze and consented, withheld=withheld)

    def _subject(self, raw_id: str) -> str:
        subject = self.pseudonymize(raw_id)
        if self.pseudonymize.rotating and not self.consent.knows(subject):
            for old in self.pseudonymize.aliases(raw_id):  # consent given under a retired key
                if self.consent.adopt(old, subject):
                    break
        return subject

    def switched_off(self, subject: str, modalities: tuple[str, ...]) -> tuple[str, ...]:
        """The modalities that may not be analysed for this subject (for the explanation)."""
        if subject in self.blocked_subjects:
            return modalities
        return tuple(m for m in modalities if not self.consent.allows(subject, m))

    def may_analyze(self, subject: str, kind: str) -> bool:
        modality = self.modality_of_kind(kind)
        if modality is None or subject in self.blocked_subjects:
            return False
        return self.consent.allows(subject, modality)

    def media(
        self,
        kind: Kind,
        raw_subject: str,
        session_id: str | None,
        at: float,
        event_id: str,
        payload: Any,
        moment: str | None = None,
        channel: str | None = None,
    ) -> GatedEvent:
        """A gated event for audio or a video frame. The caller has checked ``refusal`` before
        decoding anything, so media without consent is never even decoded."""
        subject = self.pseudonymize(raw_subject)
        return GatedEvent(
            kind=kind,
            event_id=event_id,
            subject=subject,
            session_id=session_id or f"subject:{subject}",
            at=at,
            moment=moment,
            channel=channel,
            payload=payload,
        )

    def refusal(self, raw_subject: str, kind: str) -> str | None:
        """Why this subject's media of this kind may not be analysed, or None if it may."""
        subject = self.pseudonymize(raw_subject)
        if self.may_analyze(subject, kind):
            return None
        modality = self.modality_of_kind(kind) or kind
        reason = getattr(self.consent, "reason", None)
        return str(reason(subject, modality)) if reason else f"no consent for {modality}"
