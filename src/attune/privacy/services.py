"""Wires the trust pieces into a running engine: the persistent consent ledger, the audit sink,
tombstones and key rotation at the gate, and what a revocation must do.

``install(engine, store)`` is called once per process (the trust router's lifespan does it for
the API; the CLI does it for its commands). It only uses the engine's public hooks: the gate's
``consent`` and ``pseudonymize`` attributes, ``engine.audit_sink`` and the gate's ``admit``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete

from attune.engine import Engine
from attune.events.gate import GateResult
from attune.events.schemas import Message
from attune.policy.rules import Policy
from attune.privacy.audit import AuditLog
from attune.privacy.consent import ConsentLedger
from attune.privacy.governance import Governance
from attune.privacy.pseudonym import Pseudonymizer
from attune.privacy.redaction import redact_json, suspect
from attune.privacy.retention import Retention
from attune.storage import tables
from attune.storage.store import Store

log = logging.getLogger("attune.privacy")
# Which stored event kinds hold a modality's raw data.
RAW_KINDS = {
    "behaviour": ("behaviour", "identify"),
    "text": ("message",),
    "voice": ("voice",),
    "face": ("frame",),
}
StreamCloser = Callable[[str, str], int]  # (subject, modality) -> streams closed


@dataclass
class TrustServices:
    engine: Engine
    store: Store
    ledger: ConsentLedger
    audit: AuditLog
    retention: Retention
    pseudonymize: Pseudonymizer
    governance: Governance
    clock: Callable[[], float] = time.time
    stream_closers: list[StreamCloser] = field(default_factory=list)
    # Shared session caches (Redis, in scale-out): erasure evicts the subject's sessions there.
    session_forgetters: list[Callable[[list[str]], None]] = field(default_factory=list)
    dropped: int = 0  # late events for erased subjects

    def subject(self, raw_id: str) -> str:
        return self.pseudonymize(raw_id)

    def on_revoke(self, subject: str, modality: str) -> None:
        """Revocation: close open streams of that modality, purge its raw data, forget the
        analyzer's working memory for the subject's sessions."""
        closed = sum(closer(subject, modality) for closer in self.stream_closers)
        self.engine.flush()  # buffered rows first, or they would land after the purge
        kinds = RAW_KINDS.get(modality, ())
        with self.store.begin() as conn:
            purged = conn.execute(
                delete(tables.events).where(
                    tables.events.c.subject == subject, tables.events.c.kind.in_(kinds)
                )
            ).rowcount
        for rt in self.engine.sessions.values():
            if rt.subject == subject:
                for key in [k for k in rt.scratch if modality in str(k)]:
                    del rt.scratch[key]
        self.audit.append(
            "consent_revoked",
            "gate",
            subject,
            {"modality": modality, "raw_rows_purged": purged or 0, "streams_closed": closed},
        )


def _redact_behaviour(ev: Any) -> None:
    """PII typed into forms or carried in URLs (``/reset?email=...``) never reaches storage.
    Only values that look suspect (an '@', seven digits) are rewritten: clicks stay cheap."""
    props = getattr(ev, "properties", None)
    if props and suspect(props):
        ev.properties = redact_json(props)
    context = getattr(ev, "context", None)
    for model in (ev, context):  # fields beyond the schema (extra="allow") are stored too
        extra = getattr(model, "__pydantic_extra__", None)
        if extra and suspect(extra):
            for key, value in extra.items():
                extra[key] = redact_json(value)
    page = getattr(context, "page", None)
    if page is not None:
        for name in ("url", "path", "referrer", "title"):
            value = getattr(page, name, None)
            if isinstance(value, str) and suspect(value):
                setattr(page, name, redact_json(value))


def install(
    engine: Engine,
    store: Store,
    clock: Callable[[], float] = time.time,
    retired_keys: list[str] | None = None,
    approvals: bool | None = None,
    announce: bool = True,
) -> TrustServices:
    settings = engine.settings
    retired = retired_keys if retired_keys is not None else settings.pseudonym_retired_keys
    pseudonymize = Pseudonymizer(settings.pseudonym_key, retired)
    ledger = ConsentLedger(legal_basis=dict(settings.legal_basis), store=store, clock=clock)
    ledger.load()
    audit = AuditLog(store, clock)
    retention = Retention(
        store,
        settings.retention,
        clock,
        on_purge=lambda counts: audit.append(
            "retention_purge", "retention", None, {"rows": counts}
        ),
    )
    governance = Governance(store, audit, clock)
    services = TrustServices(
        engine, store, ledger, audit, retention, pseudonymize, governance, clock
    )
    if approvals if approvals is not None else settings.require_playbook_approval:
        # only playbooks approved by a second person, unchanged since, may run
        engine.policy = Policy(governance.active(engine.policy.playbooks))
    ledger.on_revoke.append(services.on_revoke)
    gate = engine.gate
    gate.pseudonymize = pseudonymize
    gate.consent = ledger
    engine.consent = ledger

    def audit_sink(action: str, subject: str | None, data: dict[str, Any]) -> None:
        # session ids may embed the pseudonym: the decision id is the handle that is kept
        # queued, not committed on the event path: written with the engine's next flush
        audit.append(
            action,
            "engine",
            subject,
            {k: v for k, v in data.items() if k != "session_id"},
            sync=False,
        )

    engine.audit_sink = audit_sink
    engine.after_write.append(audit.flush)
    original_admit = gate.admit

    def admit(ev: Any) -> GateResult:
        raw = getattr(ev, "raw_subject", None)
        if raw is not None:
            current = pseudonymize(raw)
            if pseudonymize.rotating and not ledger.knows(current):
                for old in pseudonymize.aliases(raw):
                    if ledger.adopt(old, current):
                        break
            if ledger.is_tombstoned(current):
                services.dropped += 1
                return GateResult(None, False, dropped="erased")
            _redact_behaviour(ev)
        result = original_admit(ev)
        if result.analyze and type(ev) is Message and ev.speaker == "agent":
            # an agent's turn in a transcript is an employee speaking: never emotion-analysed
            return GateResult(result.event, False)
        return result

    gate.admit = admit  # type: ignore[method-assign]
    if announce:  # a serving process records the models and playbooks it runs with
        audit.append(
            "model_in_use",
            "engine",
            None,
            {
                "analyzers": {m: getattr(a, "version", "?") for m, a in engine.analyzers.items()},
                "playbooks": engine.policy.version,
                "pseudonym_key": pseudonymize.fingerprint,
            },
        )
    return services
