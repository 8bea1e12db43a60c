"""Tables of the privacy area, on the core ``metadata``.

None of them holds a raw identity except ``identities``, which is kept apart behind its own
scope and erased with the subject. ``audit_subject_keys`` holds the per-subject keys that make
audit references erasable (delete the key and the references point at no one).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, String, Table, Text

from attune.storage.tables_core import metadata

audit_subject_keys = Table(
    "audit_subject_keys",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("salt", String(64), nullable=False),
)

# Erased subjects: late events for them are dropped at the gate. Keyed by a one-way hash of
# the pseudonym (consent.tomb_key), so erasure leaves no pseudonym behind.
tombstones = Table(
    "tombstones",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("at", Float, nullable=False),
)

# AI Act Art. 50(3): which disclosure text version a subject acknowledged, and when.
disclosure_acks = Table(
    "disclosure_acks",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("text_version", String(64), nullable=False),
    Column("at", Float, nullable=False),
)

# Subjects that must never be emotion-analysed (employees, agents): Art. 5(1)(f).
subject_flags = Table(
    "subject_flags",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # employee | agent
    Column("at", Float, nullable=False),
)

# Optional: real identities, only when a deployer needs them (behind the 'privacy' scope).
identities = Table(
    "identities",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("identity", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# Playbook versions and their review: a version is active only once approved by a non-author.
playbook_reviews = Table(
    "playbook_reviews",
    metadata,
    Column("key", String(200), primary_key=True),  # playbook@version
    Column("digest", String(64), nullable=False),  # sha256 of the YAML that was approved
    Column("author", String(200), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("approved_by", String(200)),
    Column("approved_at", Float),
)

# Subject-holding trust tables, in erase order (audit keys last: they shred the audit refs).
PRIVACY_SUBJECT_TABLES = (disclosure_acks, subject_flags, identities, audit_subject_keys)
