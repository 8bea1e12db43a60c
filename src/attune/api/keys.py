"""API keys with scopes, stored hashed. A key is shown once, when it is created.

Scopes: ingest (a public key, for a web page: writes events, reads only its own visitor's
decisions, see ``attune.api.visitor_tokens``), server (a back end's key: events and decisions of
any session, visitor tokens), read (sessions and decisions), analyst (aggregates only), privacy
(subject rights, consent administration), author (submit playbooks for review), approver
(approve playbooks someone else submitted), agent (the handoff queue: read and work it,
nothing else), admin (everything except approver: four eyes need a
second, named person, so that role is only ever given explicitly). A key's name is the person it
belongs to: governance records and compares it.

Each process caches what a key digest resolves to for at most ``CACHE_S`` (so a revocation made
by any process, or the CLI, bites everywhere within that time), in a bounded cache (random
bogus keys cannot grow it).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from attune.storage import tables
from attune.storage.store import Store

SCOPES = ("ingest", "server", "read", "analyst", "privacy", "author", "approver", "agent", "admin")
EXPLICIT = frozenset({"approver"})  # not implied by admin
FULL_ACCESS = frozenset({"server", "read", "privacy", "admin"})  # act for any visitor
CACHE_S = 0.5
CACHE_MAX = 10_000
LAST_USE_EVERY_S = 60.0


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        if scope == "ingest" and "server" in self.scopes:  # a back end writes events too
            return True
        return scope in self.scopes or ("admin" in self.scopes and scope not in EXPLICIT)

    @property
    def public(self) -> bool:
        """A key a web page holds: it may act only for visitors whose token it presents."""
        return not (self.scopes & FULL_ACCESS)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class KeyRing:
    def __init__(
        self, store: Store, clock: Callable[[], float] = time.monotonic, max_cached: int = CACHE_MAX
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_cached = max_cached
        self._cache: OrderedDict[str, tuple[ApiKey | None, float]] = OrderedDict()
        self._last_use: dict[str, float] = {}
        self._lock = threading.Lock()

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
        with self._lock:
            self._cache.pop(hash_key(raw), None)
        return raw

    def verify(self, raw: str) -> ApiKey | None:
        digest = hash_key(raw)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and now - cached[1] < CACHE_S:
            key = cached[0]
        else:
            with self.store.connect() as conn:
                row = conn.execute(
                    select(tables.api_keys).where(
                        tables.api_keys.c.key_hash == digest,
                        tables.api_keys.c.revoked_at.is_(None),
                    )
                ).first()
            key = ApiKey(row.id, row.name, frozenset(row.scopes.split())) if row else None
            with self._lock:
                self._cache[digest] = (key, now)
                self._cache.move_to_end(digest)
                while len(self._cache) > self.max_cached:
                    self._cache.popitem(last=False)
        if key is not None:
            self._note_use(key.id)
        return key

    def _note_use(self, key_id: str) -> None:
        wall = time.time()
        if wall - self._last_use.get(key_id, 0.0) < LAST_USE_EVERY_S:
            return
        self._last_use[key_id] = wall
        with self.store.begin() as conn:
            conn.execute(
                update(tables.api_keys)
                .where(tables.api_keys.c.id == key_id)
                .values(last_used_at=wall)
            )

    def revoke(self, key_id: str) -> bool:
        with self.store.begin() as conn:
            done = conn.execute(
                update(tables.api_keys)
                .where(tables.api_keys.c.id == key_id)
                .where(tables.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            ).rowcount
        with self._lock:
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
                "created_at": r.created_at,
                "last_used_at": r.last_used_at,
                "revoked": r.revoked_at is not None,
                "revoked_at": r.revoked_at,
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
