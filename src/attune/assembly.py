"""The one composition root: ``build(settings)`` makes every part of a running Attune and hands
each its collaborators in the constructor. The API, the workers, the CLI, the benches and the
demo all call it; nothing else builds an engine, and nothing swaps a part after construction.

    store -> privacy services (consent ledger, pseudonyms, audit, retention, governance)
          -> gate -> analyzers -> policy (approved playbooks) -> engine -> delivery -> transport
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from attune.config import Settings
from attune.delivery.handoffs import HandoffQueue
from attune.delivery.hub import DecisionHub
from attune.delivery.router import Delivery
from attune.delivery.webhooks import Webhooks
from attune.engine import Engine
from attune.events.gate import Gate
from attune.measure.outreach import OutreachPlanner
from attune.models.runtime import enable
from attune.policy.approval import Governance
from attune.policy.assignment import Experiment
from attune.policy.decision import Decision
from attune.policy.loader import LoadedPlaybook, load_dir
from attune.policy.rules import Policy
from attune.privacy.consent import ConsentLedger, ModalityRules
from attune.privacy.pseudonym import Pseudonymizer
from attune.privacy.services import PrivacyServices, build_privacy
from attune.signals import registry
from attune.signals.base import Analyzer
from attune.storage.store import Store

log = logging.getLogger("attune.assembly")


@dataclass
class Assembly:
    settings: Settings
    store: Store | None
    privacy: PrivacyServices | None
    governance: Governance | None  # playbook approvals (four eyes), on the same store and audit
    engine: Engine
    delivery: Delivery
    handoffs: HandoffQueue | None = None  # the handoff queue (with a store)
    outreach: OutreachPlanner | None = None  # proactive contacts (with a store)


def load_analyzers(modalities: list[str]) -> tuple[dict[str, Analyzer], dict[str, str]]:
    """The analyzers of the switched-on modalities, and why any could not start."""
    analyzers: dict[str, Analyzer] = {}
    unavailable: dict[str, str] = {}
    for modality in modalities:
        try:
            analyzers[modality] = registry.build(modality)
        except Exception as exc:  # an optional analyzer may be absent: say so, go on
            unavailable[modality] = str(exc)
            log.warning("analyzer %s unavailable: %s", modality, exc)
    return analyzers, unavailable


def build(
    settings: Settings,
    *,
    store: Store | None = None,
    persistent: bool = True,
    analyzers: dict[str, Analyzer] | None = None,
    playbooks: list[LoadedPlaybook] | None = None,
    experiment: Experiment | None = None,
    approvals: bool | None = None,
    clock: Callable[[], float] = time.time,
    retired_keys: list[str] | None = None,
    announce: bool = True,
    deliver: Callable[[dict[str, Any]], None] | None = None,
) -> Assembly:
    """Everything one process needs. ``persistent=False`` gives the in-memory engine alone (no
    store, consent in memory): the bench's and the unit tests' baseline. ``deliver`` replaces
    the delivery hand-over (a worker relays decisions to the stream instead)."""
    enable(settings.enable_models)  # research-licensed models the operator opted in to
    if persistent and store is None:
        store = Store(settings.database_url)
    privacy: PrivacyServices | None = None
    governance: Governance | None = None
    if persistent and store is not None:
        privacy = build_privacy(settings, store, clock, retired_keys, modality_rules())
        governance = Governance(store, privacy.audit, clock)
        gate = Gate(privacy.pseudonymize, privacy.ledger, registry.modality_of_kind)
        gate.recent.preload(store.recent_event_ids(gate.recent.capacity))
    else:
        ledger = ConsentLedger(legal_basis=dict(settings.legal_basis), rules=modality_rules())
        gate = Gate(Pseudonymizer(settings.pseudonym_key), ledger, registry.modality_of_kind)
    unavailable: dict[str, str] = {}
    if analyzers is None:
        analyzers, unavailable = load_analyzers(registry.enabled(settings.modalities))
    books = playbooks if playbooks is not None else load_dir(settings.playbook_dir)
    needs_approval = approvals if approvals is not None else settings.require_playbook_approval
    if governance is not None and needs_approval:
        # only playbooks approved by a second person, unchanged since, may run
        books = governance.active(books)
    delivery = Delivery(
        DecisionHub(), Webhooks(settings.webhook_urls, secret=settings.webhook_secret)
    )
    relay = deliver or delivery.deliver
    engine = Engine(
        settings,
        gate=gate,
        policy=Policy(books),
        analyzers=analyzers,
        store=store,
        experiment=experiment,
        audit_sink=privacy.audit_sink if privacy is not None else None,
        deliver=lambda decision: relay(delivered(decision)),
        after_write=[privacy.audit.flush] if privacy is not None else [],
        unavailable=unavailable,
    )
    handoffs: HandoffQueue | None = None
    if privacy is not None and store is not None:
        handoffs = HandoffQueue(
            store,
            engine.policy,
            privacy.ledger,
            privacy.audit,
            delivery.webhooks,
            ttl_s=settings.retention.decisions_s,
            text_ttl_s=settings.retention.text_s,
            clock=clock,
            flush=engine.flush,
            release=engine.release_escalation,
        )
        delivery.sinks.append(handoffs.receive)
        privacy.revoke_listeners.append(handoffs.on_revoke)
    if privacy is not None:
        privacy.attach(engine)
        if announce:  # a serving process records the models and playbooks it runs with
            privacy.audit.append(
                "model_in_use",
                "engine",
                None,
                {
                    "analyzers": {m: getattr(a, "version", "?") for m, a in analyzers.items()},
                    "models": models_in_use(),
                    "playbooks": engine.policy.version,
                    "pseudonym_key": privacy.pseudonymize.fingerprint,
                },
            )
    outreach = (
        OutreachPlanner(
            store, engine.policy, delivery.webhooks, settings.retention.decisions_s, clock
        )
        if store is not None
        else None
    )
    return Assembly(settings, store, privacy, governance, engine, delivery, handoffs, outreach)


def delivered(decision: Decision) -> dict[str, Any]:
    """A decision as delivery receives it: its JSON form, and the route for the sinks."""
    out = decision.to_dict()
    if decision.route is not None:
        out["route"] = decision.route
    return out


def build_privacy_only(settings: Settings, store: Store | None = None) -> PrivacyServices:
    """The privacy services without an engine: what a CLI command that records a consent,
    erases a subject or verifies the audit chain needs."""
    services = build_privacy(
        settings, store or Store(settings.database_url), rules=modality_rules()
    )
    if settings.transport == "nats":  # an erasure also empties the workers' session cache
        from attune.storage.session_cache import RedisSessionCache

        try:
            cache = RedisSessionCache(settings.redis_url, prefix=settings.redis_prefix)
            services.session_forgetters.append(cache.forget)
        except RuntimeError as exc:
            log.warning("session cache not reachable from here: %s", exc)
    return services


def modality_rules() -> ModalityRules:
    """Privacy's view of the registered modalities (so that privacy imports no analyzer)."""
    specs = registry.specs()
    return ModalityRules(
        names=tuple(s.name for s in specs),
        opt_in=frozenset(s.name for s in specs if s.biometric),
        default_basis={s.name: s.legal_basis for s in specs},
        raw_kinds={s.name: s.raw_kinds for s in specs},
        streamed=frozenset(s.name for s in specs if s.streams),
    )


def models_in_use() -> dict[str, str]:
    """Enabled models (installed, or the operator's own in ATTUNE_MODELS_DIR) with digests."""
    from attune.models.runtime import available

    out: dict[str, str] = {}
    for name, info in available().items():
        if info.enabled:
            out[name] = f"{info.version} sha256:{info.sha256[:16]}"
    return out
