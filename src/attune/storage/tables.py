"""Every table of the schema, one ``metadata`` for SQLite and PostgreSQL alike: the core tables
(``tables_core``) and each area's (``tables_measure``, ``tables_privacy``); one line per area."""

from __future__ import annotations

from attune.storage import (  # noqa: F401  (their tables register)
    tables_handoff,
    tables_measure,
    tables_privacy,
)
from attune.storage.tables_core import (
    api_keys,
    audit_log,
    consents,
    dead_letters,
    decisions,
    events,
    feedback,
    metadata,
    outcomes,
    sessions,
    signals,
    states,
)
from attune.storage.tables_handoff import contact_consents, handoff_turns, handoffs, outreach_log
from attune.storage.tables_measure import experiment_exposures

# Subject-holding tables, in erase order (for subject rights and the "nothing left" scan).
SUBJECT_TABLES = (
    handoff_turns,
    handoffs,
    contact_consents,
    outreach_log,
    signals,
    states,
    decisions,
    outcomes,
    feedback,
    events,
    consents,
    experiment_exposures,
    dead_letters,
    sessions,
)

__all__ = [
    "SUBJECT_TABLES",
    "api_keys",
    "audit_log",
    "consents",
    "contact_consents",
    "dead_letters",
    "decisions",
    "events",
    "experiment_exposures",
    "feedback",
    "handoff_turns",
    "handoffs",
    "metadata",
    "outcomes",
    "outreach_log",
    "sessions",
    "signals",
    "states",
]
