"""Data-subject rights: export everything held about a subject (GDPR Art. 15/20), erase it
everywhere (Art. 17), and explain a decision (Art. 22 / AI Act transparency). Each is audited.

Subjects are pseudonyms here; the API and CLI turn a raw id into its pseudonyms (current and
retired keys) first.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select

from attune.privacy.services import PrivacyServices
from attune.storage import tables
from attune.storage.tables_privacy import PRIVACY_SUBJECT_TABLES, identities

HOW_COMPUTED = (
    "Each signal comes from one analyzer (named in 'source' with its model version) and carries "
    "the evidence it saw. Signals are fused per session into a probability for each "
    "customer-experience state (frustrated, confused, anxious, disappointed, satisfied, "
    "neutral); the playbook named in each decision turns that state into an adaptation, and "
    "the decision's explanation says which signals moved it."
)
EXPORT_TABLES = (
    "sessions",
    "events",
    "signals",
    "states",
    "decisions",
    "outcomes",
    "feedback",
    "consents",
    "experiment_exposures",
    "handoffs",
    "handoff_turns",
    "contact_consents",
    "outreach_log",
)

log = logging.getLogger("attune.privacy")


def _rows(services: PrivacyServices, table_name: str, subjects: list[str]) -> list[dict[str, Any]]:
    t = tables.metadata.tables[table_name]
    with services.store.connect() as conn:
        rows = conn.execute(select(t).where(t.c.subject.in_(subjects)))
        return [dict(r._mapping) for r in rows]


def export(services: PrivacyServices, subjects: list[str], actor: str) -> dict[str, Any]:
    """Everything held about the subject, machine-readable, with how each score was made."""
    services.live.flush()
    data: dict[str, Any] = {name: _rows(services, name, subjects) for name in EXPORT_TABLES}
    ledger = services.ledger
    data["disclosure_acknowledged"] = {
        s: ledger.disclosure_acknowledged(s) for s in subjects if ledger.disclosure_acknowledged(s)
    }
    data["role_flags"] = {s: ledger.role(s) for s in subjects if ledger.role(s)}
    data["identity"] = _rows(services, "identities", subjects)
    data["consent_now"] = {
        s: {m: ledger.allows(s, m) for m in ledger.rules.names} for s in subjects
    }
    data["audit"] = [
        {k: e[k] for k in ("seq", "at", "actor", "action", "data")}
        for s in subjects
        for e in services.audit.entries(subject=s)
    ]
    data["live_sessions"] = [
        services.live.session_view(sid)
        for s in subjects
        for sid in services.live.subject_sessions(s)
    ]
    data["how_scores_are_computed"] = HOW_COMPUTED
    data["subjects"] = subjects
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    for s in subjects:
        services.audit.append("subject_export", actor, s, {"rows": counts})
    return data


def erase(services: PrivacyServices, subjects: list[str], actor: str) -> dict[str, int]:
    """Delete every row about the subjects, close their streams, clear caches, and leave a
    tombstone (a one-way hash) so that late events are dropped at the gate."""
    live = services.live
    live.flush()
    for modality in services.ledger.rules.streamed:
        for subject in subjects:
            for closer in services.stream_closers:
                closer(subject, modality)
    for subject in subjects:  # audited before the audit key goes: the entry then points nowhere
        services.audit.append("subject_erase", actor, subject, {"tables": "all"})
    counts: dict[str, int] = {}
    with services.store.begin() as conn:
        s = tables.sessions
        session_ids = {r for (r,) in conn.execute(select(s.c.id).where(s.c.subject.in_(subjects)))}
        for subject in subjects:
            session_ids.update(live.subject_sessions(subject))
        for t in (*tables.SUBJECT_TABLES, *PRIVACY_SUBJECT_TABLES):
            n = conn.execute(delete(t).where(t.c.subject.in_(subjects))).rowcount or 0
            counts[t.name] = counts.get(t.name, 0) + n
    for subject in subjects:
        services.audit.refs.shred(subject)
        services.ledger.forget(subject)
        services.ledger.tombstone(subject)
        live.forget_sessions(live.subject_sessions(subject))
    for forget in services.session_forgetters:
        forget(sorted(session_ids))
    services.pseudonymize.forget()  # the in-memory raw id -> pseudonym cache
    if not services.store.scrub():  # the write-ahead log would still hold the rows
        log.warning("write-ahead log checkpoint held back by a reader; it completes later")
    return counts


def explain(services: PrivacyServices, decision_id: str, actor: str) -> dict[str, Any] | None:
    """A decision with its explanation, the state it acted on, the signals that moved it and
    the playbook version: what a customer could be told."""
    services.live.flush()
    d = tables.decisions
    with services.store.connect() as conn:
        row = conn.execute(select(d).where(d.c.id == decision_id)).first()
        if row is None:
            return None
        s = tables.signals
        signals = conn.execute(
            select(
                s.c.modality, s.c.name, s.c.value, s.c.confidence, s.c.evidence, s.c.source, s.c.at
            )
            .where(s.c.session_id == row.session_id, s.c.at <= row.at)
            .order_by(s.c.at.desc())
            .limit(20)
        ).all()
    services.audit.append("decision_explain", actor, row.subject, {"decision_id": decision_id})
    return {
        "decision_id": row.id,
        "at": row.at,
        "moment": row.moment,
        "mode": row.mode,
        "tone": row.tone,
        "offers_allowed": row.offers_allowed,
        "escalate": row.escalate,
        "explanation": row.explanation,
        "state": row.state,
        "playbook_version": row.playbook_version,
        "arm": row.arm,
        "signals": [dict(r._mapping) for r in signals],
        "how_scores_are_computed": HOW_COMPUTED,
    }


def set_identity(services: PrivacyServices, subject: str, identity: str, actor: str) -> None:
    with services.store.begin() as conn:
        conn.execute(delete(identities).where(identities.c.subject == subject))
        conn.execute(
            identities.insert().values(subject=subject, identity=identity, at=services.clock())
        )
    services.audit.append("identity_read", actor, subject, {"op": "set"})


def get_identity(services: PrivacyServices, subject: str, actor: str) -> str | None:
    with services.store.connect() as conn:
        value = conn.execute(
            select(identities.c.identity).where(identities.c.subject == subject)
        ).scalar()
    services.audit.append("identity_read", actor, subject, {"op": "get", "found": bool(value)})
    return str(value) if value is not None else None
