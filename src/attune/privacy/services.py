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
from attune.policy.rules import Policy
from attune.privacy.audit import AuditLog
from attune.privacy.consent import ConsentLedger
from attune.privacy.governance import Governance
from attune.privacy.pseudonym import Pseudonymizer
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

    @property
    def dropped(self) -> int:
        """Late events of erased subjects, dropped at the gate."""
        return self.engine.counts["erased"]

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
