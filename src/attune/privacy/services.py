"""The privacy services of one process: the persistent consent ledger, pseudonyms, the audit
log, retention, and what a revocation or erasure must do to live state.

Built by ``attune.assembly`` and handed to the engine's gate, the API and the CLI. Live session
state is reached through the small ``LiveSessions`` protocol (the engine implements it), so
this package never imports the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete

from attune.privacy.audit import AuditLog
from attune.privacy.consent import ConsentLedger, ModalityRules, tomb_key
from attune.privacy.pseudonym import Pseudonymizer
from attune.privacy.retention import Retention
from attune.storage import tables
from attune.storage.store import Store

log = logging.getLogger("attune.privacy")
StreamCloser = Callable[[str, str], int]  # (subject, modality) -> streams closed


class LiveSessions(Protocol):
    """What privacy needs of the sessions a process holds in memory."""

    counts: dict[str, int]

    def flush(self) -> int: ...

    def subject_sessions(self, subject: str) -> list[str]: ...

    def session_view(self, session_id: str) -> dict[str, Any] | None: ...

    def forget_sessions(self, session_ids: list[str]) -> None: ...

    def forget_modality(self, subject: str, modality: str) -> None: ...

    def live_subjects(self) -> set[str]: ...


class NoLiveSessions:
    """A process without an engine (the CLI): nothing held in memory."""

    counts: dict[str, int] = {"erased": 0}  # noqa: RUF012 - never written

    def flush(self) -> int:
        return 0

    def subject_sessions(self, subject: str) -> list[str]:
        return []

    def session_view(self, session_id: str) -> dict[str, Any] | None:
        return None

    def forget_sessions(self, session_ids: list[str]) -> None:
        return None

    def forget_modality(self, subject: str, modality: str) -> None:
        return None

    def live_subjects(self) -> set[str]:
        return set()


@dataclass
class PrivacyServices:
    store: Store
    ledger: ConsentLedger
    audit: AuditLog
    retention: Retention
    pseudonymize: Pseudonymizer
    clock: Callable[[], float] = time.time
    live: LiveSessions = field(default_factory=NoLiveSessions)
    stream_closers: list[StreamCloser] = field(default_factory=list)
    # Shared session caches (Redis, in scale-out): erasure evicts the subject's sessions there.
    session_forgetters: list[Callable[[list[str]], None]] = field(default_factory=list)
    # Told of a revocation before its raw data is purged (e.g. the handoff queue, whose
    # transcript then stops growing): (subject, modality).
    revoke_listeners: list[Callable[[str, str], object]] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        """Late events of erased subjects, dropped at the gate."""
        return self.live.counts.get("erased", 0)

    def subject(self, raw_id: str) -> str:
        return self.pseudonymize(raw_id)

    def attach(self, live: LiveSessions) -> None:
        """The engine of this process (set once, by the assembly, right after building it)."""
        self.live = live

    def on_revoke(self, subject: str, modality: str) -> None:
        """Revocation: close open streams of that modality, purge its raw data, forget the
        analyzer's working memory and the modality's evidence for the subject's sessions."""
        closed = sum(closer(subject, modality) for closer in self.stream_closers)
        self.live.flush()  # buffered rows first, or they would land after the purge
        for listener in self.revoke_listeners:
            listener(subject, modality)
        kinds = self.ledger.rules.raw_kinds.get(modality, ())
        with self.store.begin() as conn:
            purged = conn.execute(
                delete(tables.events).where(
                    tables.events.c.subject == subject, tables.events.c.kind.in_(kinds)
                )
            ).rowcount
        self.live.forget_modality(subject, modality)
        self.store.scrub()
        self.audit.append(
            "consent_revoked",
            "gate",
            subject,
            {"modality": modality, "raw_rows_purged": purged or 0, "streams_closed": closed},
        )

    def sync(self) -> int:
        """Honour what another process (the CLI, another API process) changed in the store:
        erased subjects leave this process's live state and the shared session cache;
        withdrawn modalities lose their working memory and evidence here. Returns the number
        of sessions forgotten. Run every ``consent_refresh_s`` by servers and workers."""
        return self.apply(*self.ledger.refresh())

    def apply(self, new_tombs: frozenset[str], withdrawn: list[tuple[str, str]]) -> int:
        """The live half of ``sync`` (on the thread that ingests; the store read may run
        elsewhere: ``apply(*ledger.refresh())``)."""
        forgotten: list[str] = []
        if new_tombs:
            for subject in self.live.live_subjects():
                if tomb_key(subject) in new_tombs:
                    forgotten += self.live.subject_sessions(subject)
            self.live.forget_sessions(forgotten)
            for forget in self.session_forgetters:
                forget(sorted(forgotten))
            self.pseudonymize.forget()
        for subject, modality in withdrawn:
            self.live.forget_modality(subject, modality)
        return len(forgotten)

    def change_consent(
        self,
        subject: str,
        modalities: list[str],
        granted: bool,
        actor: str,
        *,
        purpose: str = "cx_adaptation",
        source: str | None = None,
        text_version: str | None = None,
    ) -> dict[str, bool]:
        """Grant or withdraw consent for a pseudonymous subject, as the API and the CLI both do:
        recorded, audited, effective on the next event. Returns consent now per modality."""
        for modality in modalities:
            self.ledger.record(
                subject,
                modality,
                granted,
                purpose=purpose,
                source=source,
                text_version=text_version,
            )
            if granted:  # revocations are audited by ``on_revoke``, with what was purged
                self.audit.append(
                    "consent_granted",
                    actor,
                    subject,
                    {
                        "modality": modality,
                        "purpose": purpose,
                        "source": source,
                        "text_version": text_version,
                    },
                )
        return {m: self.ledger.allows(subject, m) for m in self.ledger.rules.names}

    def audit_sink(self, action: str, subject: str | None, data: dict[str, Any]) -> None:
        """The engine's decisions, queued (not committed on the event path) and written with
        its next flush. Session ids may embed the pseudonym: the decision id is what is kept."""
        self.audit.append(
            action,
            "engine",
            subject,
            {k: v for k, v in data.items() if k != "session_id"},
            sync=False,
        )


def build_privacy(
    settings: Any,
    store: Store,
    clock: Callable[[], float] = time.time,
    retired_keys: list[str] | None = None,
    rules: ModalityRules | None = None,
) -> PrivacyServices:
    """The privacy services over ``store`` (``settings`` is ``attune.config.Settings``)."""
    retired = retired_keys if retired_keys is not None else settings.pseudonym_retired_keys
    pseudonymize = Pseudonymizer(settings.pseudonym_key, retired)
    ledger = ConsentLedger(
        legal_basis=dict(settings.legal_basis),
        rules=rules or ModalityRules(),
        store=store,
        clock=clock,
    )
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
    services = PrivacyServices(store, ledger, audit, retention, pseudonymize, clock)
    ledger.on_revoke.append(services.on_revoke)
    return services
