"""API keys with scopes, stored hashed. A key is shown once, when it is created.

Scopes: ingest (write-only, safe in a web page), read (sessions and decisions), analyst
(aggregates only), privacy (subject rights, consent administration), agent (the handoff queue:
read and work it, nothing else), author (submit playbooks
for review), approver (approve playbooks someone else submitted), admin (everything except
approver: four eyes need a second, named person, so that role is only ever given explicitly).
A key's name is the person it belongs to: governance records and compares it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select, update

from attune.storage import tables
from attune.storage.store import Store

SCOPES = ("ingest", "read", "analyst", "privacy", "author", "approver", "agent", "admin")
EXPLICIT = frozenset({"approver"})  # not implied by admin


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or ("admin" in self.scopes and scope not in EXPLICIT)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class KeyRing:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, ApiKey | None] = {}

    def create(self, name: str, scopes: list[str], raw: str | None = None) -> str:
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise ValueError(f"unknown scope(s) {bad or scopes}; choose from {', '.join(SCOPES)}")
        raw = raw or "atn_" + secrets.token_urlsafe(24)
        with self.store.begin() as conn:
            conn.execute(
                tables.api_keys.insert().values(
                    id=secrets.token_hex(8),
                    name=name,
                    key_hash=hash_key(raw),
                    scopes=" ".join(sorted(set(scopes))),
                    created_at=time.time(),
                )
            )
        self._cache.pop(hash_key(raw), None)
        return raw

    def verify(self, raw: str) -> ApiKey | None:
        digest = hash_key(raw)
        if digest in self._cache:
            return self._cache[digest]
        with self.store.connect() as conn:
            row = conn.execute(
                select(tables.api_keys).where(
                    tables.api_keys.c.key_hash == digest, tables.api_keys.c.revoked_at.is_(None)
                )
            ).first()
        key = ApiKey(row.id, row.name, frozenset(row.scopes.split())) if row else None
        self._cache[digest] = key
        return key

    def revoke(self, key_id: str) -> bool:
        with self.store.begin() as conn:
            done = conn.execute(
                update(tables.api_keys)
                .where(tables.api_keys.c.id == key_id)
                .values(revoked_at=time.time())
            ).rowcount
        self._cache.clear()
        return bool(done)

    def list(self) -> list[dict[str, object]]:
        with self.store.connect() as conn:
            rows = conn.execute(select(tables.api_keys)).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "scopes": r.scopes.split(),
                "revoked": r.revoked_at is not None,
            }
            for r in rows
        ]

    def holds(self, name: str, scope: str) -> bool:
        """Whether a person (a key's name, case and spaces ignored) holds ``scope`` through
        an active key: how the CLI checks a role for its ``--actor``."""
        wanted = name.strip().casefold()
        with self.store.connect() as conn:
            rows = conn.execute(
                select(tables.api_keys.c.name, tables.api_keys.c.scopes).where(
                    tables.api_keys.c.revoked_at.is_(None)
                )
            ).all()
        return any(
            r.name.strip().casefold() == wanted
            and ApiKey("", r.name, frozenset(r.scopes.split())).allows(scope)
            for r in rows
        )

    def any(self) -> bool:
        with self.store.connect() as conn:
            return conn.execute(select(tables.api_keys.c.id).limit(1)).first() is not None
