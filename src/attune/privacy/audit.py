"""The audit log: append-only and hash-chained.

Each entry carries the hash of the one before it, and its own hash covers its sequence number,
time, actor, action, subject reference, data and that previous hash. Editing an entry breaks
its own hash; deleting one leaves a gap and a broken link; moving one breaks both. ``verify``
walks the chain and names the first entry that does not fit.

Subjects appear only as a keyed reference (``SubjectRefs``): erasing a subject deletes its key,
so old entries stay verifiable but can no longer be tied to anyone (crypto-shredding).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from attune.storage import tables
from attune.storage.store import Store
from attune.storage.tables_privacy import audit_subject_keys

GENESIS = "0" * 64
ACTIONS = frozenset(
    {
        "decision",
        "experiment_hard_stop",
        "personal_data_read",
        "consent_granted",
        "consent_revoked",
        "disclosure_shown",
        "disclosure_acknowledged",
        "playbook_submitted",
        "playbook_approved",
        "model_in_use",
        "subject_export",
        "subject_erase",
        "decision_explain",
        "retention_purge",
        "key_rotation",
        "subject_flagged",
        "identity_read",
        "handoff_opened",
        "handoff_claimed",
        "handoff_closed",
        "api_key_revoked",
    }
)


def entry_hash(
    seq: int,
    at: float,
    actor: str,
    action: str,
    subject: str | None,
    data: Mapping[str, Any] | None,
    prev_hash: str,
) -> str:
    body = orjson.dumps(
        {
            "seq": seq,
            "at": repr(float(at)),
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data or {},
            "prev": prev_hash,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    bad_seq: int | None = None
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "bad_seq": self.bad_seq,
            "problem": self.problem,
        }


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    anchor: tuple[int, str] | None = None,
) -> Verdict:
    """Check rows in storage order (by seq). Pure: plain mappings in, a verdict out.

    ``anchor`` is a (seq, hash) noted earlier outside the database (``attune audit head``):
    without it, cutting entries off the end cannot be told from a shorter log.
    """
    prev_hash, expected_seq, n = GENESIS, 1, 0
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            gone = (
                f"entries {expected_seq}..{seq - 1}"
                if seq > expected_seq + 1
                else (f"entry {expected_seq}")
            )
            what = f"{gone} deleted" if seq > expected_seq else "out of order"
            return Verdict(
                False,
                n,
                expected_seq if seq > expected_seq else seq,
                f"sequence jumps to {seq} where {expected_seq} was expected: {what}",
            )
        own = entry_hash(
            seq,
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["data"],
            row["prev_hash"],
        )
        if own != row["hash"]:
            return Verdict(
                False,
                n,
                seq,
                f"entry {seq} ({row['action']}) was edited: its content no longer matches its hash",
            )
        if row["prev_hash"] != prev_hash:
            return Verdict(
                False,
                n,
                seq,
                f"entry {seq} ({row['action']}) does not follow "
                f"entry {seq - 1}: an entry was replaced or moved",
            )
        if anchor is not None and seq == anchor[0] and row["hash"] != anchor[1]:
            return Verdict(False, n, seq, f"entry {seq} differs from the anchored hash")
        prev_hash, expected_seq, n = row["hash"], seq + 1, n + 1
    if anchor is not None and anchor[0] >= expected_seq:
        return Verdict(
            False,
            n,
            expected_seq,
            f"entries {expected_seq}..{anchor[0]} were "
            "cut off the end (the anchor is beyond the log)",
        )
    return Verdict(True, n)


class SubjectRefs:
    """Keyed, erasable references to subjects for the audit log."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def ref(self, subject: str) -> str:
        key = self._keys.get(subject)
        if key is None:
            with self._lock:
                key = self._load_or_create(subject)
                self._keys[subject] = key
        return "ref:" + hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:32]

    def prefetch(self, subjects: set[str]) -> None:
        """Load or create the keys of many subjects in one transaction (batched audit writes:
        one round trip for a whole flush instead of three per new subject)."""
        missing = sorted(s for s in subjects if s not in self._keys)
        if not missing:
            return
        t = audit_subject_keys
        with self._lock, self.store.begin() as conn:
            for i in range(0, len(missing), 500):
                part = missing[i : i + 500]
                found = {
                    r.subject: r.salt
                    for r in conn.execute(
                        select(t.c.subject, t.c.salt).where(t.c.subject.in_(part))
                    )
                }
                new = [
                    {"subject": s, "salt": secrets.token_bytes(32).hex()}
                    for s in part
                    if s not in found
                ]
                if new:
                    conn.execute(self.store.insert_ignore(t), new)
                    found.update(
                        {
                            r.subject: r.salt
                            for r in conn.execute(
                                select(t.c.subject, t.c.salt).where(
                                    t.c.subject.in_([n["subject"] for n in new])
                                )
                            )
                        }
                    )
                for subject, salt in found.items():
                    self._keys[subject] = bytes.fromhex(salt)

    def _load_or_create(self, subject: str) -> bytes:
        t = audit_subject_keys
        with self.store.begin() as conn:
            row = conn.execute(select(t.c.salt).where(t.c.subject == subject)).first()
            if row is not None:
                return bytes.fromhex(row.salt)
            salt = secrets.token_bytes(32)
            conn.execute(self.store.insert_ignore(t), [{"subject": subject, "salt": salt.hex()}])
            row = conn.execute(select(t.c.salt).where(t.c.subject == subject)).first()
        return bytes.fromhex(row.salt) if row else salt

    def shred(self, subject: str) -> None:
        with self._lock:
            self._keys.pop(subject, None)
            with self.store.begin() as conn:
                conn.execute(
                    delete(audit_subject_keys).where(audit_subject_keys.c.subject == subject)
                )


class AuditLog:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.refs = SubjectRefs(store)
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None
        # (at, actor, action, subject pseudonym, data) waiting for the next flush
        self._pending: list[tuple[float, str, str, str | None, dict[str, Any]]] = []

    def _read_head(self) -> tuple[int, str]:
        t = tables.audit_log
        with self.store.connect() as conn:
            row = conn.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
        return (int(row.seq), str(row.hash)) if row else (0, GENESIS)

    def append(
        self,
        action: str,
        actor: str,
        subject: str | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        sync: bool = True,
    ) -> int:
        """Add one entry; ``subject`` is a pseudonym and is stored only as a keyed ref.

        ``sync=False`` (the engine's decisions) queues the entry for the next ``flush``, so the
        event path does not wait for a commit; reads and verification flush first. Returns the
        last sequence number written (0 while queued)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        clean = orjson.loads(orjson.dumps(dict(data or {}), default=str))
        with self._lock:  # the subject's ref is computed at flush, for all entries at once
            self._pending.append((float(self.clock()), actor[:200], action, subject, clean))
        return self.flush() if sync else 0

    def flush(self) -> int:
        """Write queued entries in one transaction, chaining them onto the stored head."""
        with self._lock:
            if not self._pending:
                return self._head[0] if self._head else 0
            self.refs.prefetch({p[3] for p in self._pending if p[3]})
            for _attempt in range(5):  # another process may have appended meanwhile
                seq, prev = self._head or self._read_head()
                rows = []
                for at, actor, action, subject, data in self._pending:
                    ref = self.refs.ref(subject) if subject else None
                    seq += 1
                    digest = entry_hash(seq, at, actor, action, ref, data, prev)
                    rows.append(
                        {
                            "seq": seq,
                            "at": at,
                            "actor": actor,
                            "action": action,
                            "subject": ref,
                            "data": data,
                            "prev_hash": prev,
                            "hash": digest,
                        }
                    )
                    prev = digest
                try:
                    with self.store.begin() as conn:
                        conn.execute(tables.audit_log.insert(), rows)
                except IntegrityError:
                    self._head = None
                    continue
                self._pending.clear()
                self._head = (seq, prev)
                return seq
        raise RuntimeError("could not append to the audit log: too many concurrent writers")

    def entries(self, subject: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        self.flush()
        t = tables.audit_log
        query = select(t).order_by(t.c.seq)
        if subject is not None:
            query = query.where(t.c.subject == self.refs.ref(subject))
        if limit is not None:
            query = query.limit(limit)
        with self.store.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry: note it outside the database as an anchor."""
        self.flush()
        return self._read_head()

    def verify(self, anchor: tuple[int, str] | None = None) -> Verdict:
        self.flush()
        t = tables.audit_log
        with self.store.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.seq))
            return verify_chain((dict(r._mapping) for r in rows), anchor)
