"""Consent per subject, modality and purpose. The gate asks ``allows`` before any analyzer sees an
event.

Behaviour may run on legitimate interest (configurable per modality); text defaults to consent;
voice and face are always opt-in whatever the configuration says, and additionally need the AI
Act disclosure acknowledged (Art. 50(3)). Subjects flagged as employees or agents are never
analysed (Art. 5(1)(f)); erased subjects (tombstones) neither. The in-memory view answers the
hot path; every change is also written to the store, which keeps the full history (who, what
text version, from which source, when). The current state always governs: a revocation applies
to every event that arrives after it, whatever timestamp the event carries.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, func, select

from attune.storage import tables
from attune.storage.store import Store
from attune.storage.tables_privacy import disclosure_acks, subject_flags, tombstones

LEGAL_BASES = frozenset({"consent", "legitimate_interest", "contract"})
DEFAULT_PURPOSE = "cx_adaptation"
ROLES = frozenset({"employee", "agent"})


@dataclass(frozen=True)
class ModalityRules:
    """What privacy needs to know of the modalities, handed over by the assembly from the
    modality registry (``attune.signals.registry``), so that privacy imports no analyzer code."""

    names: tuple[str, ...] = ()
    opt_in: frozenset[str] = frozenset()  # biometric: always consent, disclosure first
    default_basis: dict[str, str] = field(default_factory=dict)
    raw_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # purged on revoke
    streamed: frozenset[str] = frozenset()  # live streams closed on revoke and erasure


def tomb_key(subject: str) -> str:
    """What a tombstone stores: a one-way hash of the pseudonym, so that after erasure no table
    holds the pseudonym itself, yet a late event for it is still recognised and dropped."""
    return hashlib.sha256(b"attune-tombstone:" + subject.encode()).hexdigest()


@dataclass(frozen=True)
class ConsentRecord:
    subject: str
    modality: str
    granted: bool
    purpose: str = DEFAULT_PURPOSE
    source: str | None = None  # e.g. "banner", "api", "tracker", "ivr"
    text_version: str | None = None  # the consent text the customer saw
    at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RevokeListener = Callable[[str, str], None]  # (subject, modality): close streams, purge raw


@dataclass
class ConsentLedger:
    legal_basis: dict[str, str] = field(default_factory=dict)  # the operator's overrides
    rules: ModalityRules = field(default_factory=lambda: ModalityRules())
    store: Store | None = None
    clock: Callable[[], float] = time.time
    # (subject, modality, purpose) -> granted?; absent means "never asked"
    _state: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    _acks: dict[str, str] = field(default_factory=dict)  # subject -> disclosure text version
    _flags: dict[str, str] = field(default_factory=dict)  # subject -> employee | agent
    _tombstones: set[str] = field(default_factory=set)
    on_revoke: list[RevokeListener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _consent_id: int = 0  # the last consent row read (``refresh`` reads only newer ones)
    _tombs_at: float = 0.0  # when tombstones were last read

    def __post_init__(self) -> None:
        for modality, basis in self.legal_basis.items():
            if basis not in LEGAL_BASES:
                raise ValueError(
                    f"legal basis {basis!r} for {modality}: use one of {sorted(LEGAL_BASES)}"
                )

    # -- the gate's questions -------------------------------------------------------------
    def requires_consent(self, modality: str) -> bool:
        if modality in self.rules.opt_in:
            return True
        return self.basis(modality) == "consent"

    def basis(self, modality: str) -> str:
        return self.legal_basis.get(modality, self.rules.default_basis.get(modality, "consent"))

    def allows(
        self, subject: str, modality: str, at: float | None = None, purpose: str = DEFAULT_PURPOSE
    ) -> bool:
        if subject in self._flags or (self._tombstones and self.is_tombstoned(subject)):
            return False
        if modality in self.rules.opt_in and subject not in self._acks:
            return False
        explicit = self._state.get((subject, modality, purpose))
        if explicit is not None:
            return explicit
        return not self.requires_consent(modality)

    def reason(self, subject: str, modality: str, purpose: str = DEFAULT_PURPOSE) -> str:
        """Why ``allows`` answers as it does, in words (for explanations and the API)."""
        if self.is_tombstoned(subject):
            return "the subject was erased"
        if subject in self._flags:
            return f"the subject is flagged as {self._flags[subject]}: never emotion-analysed"
        if modality in self.rules.opt_in and subject not in self._acks:
            return "the AI disclosure has not been acknowledged"
        explicit = self._state.get((subject, modality, purpose))
        if explicit is not None:
            return "consent given" if explicit else "consent refused or withdrawn"
        if self.requires_consent(modality):
            return f"{modality} needs consent and none was given"
        return f"{modality} runs on {self.basis(modality)}"

    # -- changes ------------------------------------------------------------------------
    def record(
        self,
        subject: str,
        modality: str,
        granted: bool,
        *,
        purpose: str = DEFAULT_PURPOSE,
        source: str | None = None,
        text_version: str | None = None,
        at: float | None = None,
    ) -> ConsentRecord:
        if modality not in self.rules.names:
            known = ", ".join(self.rules.names)
            raise ValueError(f"unknown modality {modality!r}; use one of {known}")
        rec = ConsentRecord(
            subject,
            modality,
            granted,
            purpose,
            source,
            text_version,
            float(at if at is not None else self.clock()),
        )
        if self.store is not None:
            with self.store.begin() as conn:
                conn.execute(
                    tables.consents.insert().values(
                        subject=subject,
                        modality=modality,
                        purpose=purpose,
                        granted=granted,
                        source=source,
                        text_version=text_version,
                        at=rec.at,
                    )
                )
        with self._lock:
            was = self._state.get((subject, modality, purpose))
            self._state[(subject, modality, purpose)] = granted
        if not granted and was is not False:
            for listener in list(self.on_revoke):
                listener(subject, modality)
        return rec

    def grant(self, subject: str, modality: str, **kw: Any) -> ConsentRecord:
        return self.record(subject, modality, True, **kw)

    def revoke(self, subject: str, modality: str, **kw: Any) -> ConsentRecord:
        return self.record(subject, modality, False, **kw)

    def set(self, subject: str, modality: str, granted: bool) -> None:
        """Compatibility with the first version: a change without source or text version."""
        self.record(subject, modality, granted)

    def acknowledge_disclosure(
        self, subject: str, text_version: str, at: float | None = None
    ) -> None:
        at = float(at if at is not None else self.clock())
        self._upsert(disclosure_acks, {"subject": subject, "text_version": text_version, "at": at})
        self._acks[subject] = text_version

    def disclosure_acknowledged(self, subject: str) -> str | None:
        return self._acks.get(subject)

    def flag(self, subject: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}")
        self._upsert(subject_flags, {"subject": subject, "role": role, "at": self.clock()})
        self._flags[subject] = role

    def role(self, subject: str) -> str | None:
        return self._flags.get(subject)

    def tombstone(self, subject: str) -> None:
        key = tomb_key(subject)
        self._upsert(tombstones, {"subject": key, "at": self.clock()})
        self._tombstones.add(key)

    def is_tombstoned(self, subject: str) -> bool:
        return bool(self._tombstones) and tomb_key(subject) in self._tombstones

    def knows(self, subject: str) -> bool:
        return (
            subject in self._acks
            or subject in self._flags
            or self.is_tombstoned(subject)
            or any(k[0] == subject for k in self._state)
        )

    def adopt(self, old: str, new: str) -> bool:
        """Carry an old pseudonym's state over to its new one after key rotation (consent and
        its history stay honest: the copy is recorded with source 'key_rotation')."""
        if not self.knows(old) or self.knows(new):
            return False
        if self.is_tombstoned(old):
            self.tombstone(new)
            return True
        for (subj, modality, purpose), granted in list(self._state.items()):
            if subj == old:
                last = next(
                    (
                        r
                        for r in reversed(self.history(old))
                        if r.modality == modality and r.purpose == purpose
                    ),
                    None,
                )
                self.record(
                    new,
                    modality,
                    granted,
                    purpose=purpose,
                    source="key_rotation",
                    text_version=last.text_version if last else None,
                )
        if old in self._acks:
            self.acknowledge_disclosure(new, self._acks[old])
        if old in self._flags:
            self.flag(new, self._flags[old])
        return True

    def forget(self, subject: str) -> None:
        """Drop the subject from memory (erasure); the tombstone stays."""
        with self._lock:
            for key in [k for k in self._state if k[0] == subject]:
                del self._state[key]
        self._acks.pop(subject, None)
        self._flags.pop(subject, None)

    # -- reading back -------------------------------------------------------------------
    def history(self, subject: str) -> list[ConsentRecord]:
        if self.store is None:
            return [
                ConsentRecord(s, m, g, p) for (s, m, p), g in self._state.items() if s == subject
            ]
        t = tables.consents
        with self.store.connect() as conn:
            rows = conn.execute(select(t).where(t.c.subject == subject).order_by(t.c.at, t.c.id))
            return [
                ConsentRecord(
                    r.subject, r.modality, r.granted, r.purpose, r.source, r.text_version, r.at
                )
                for r in rows
            ]

    def load(self) -> ConsentLedger:
        """Rebuild the in-memory view from the store (at start, or in a new worker)."""
        if self.store is None:
            return self
        t = tables.consents
        with self.store.connect() as conn:
            for r in conn.execute(select(t).order_by(t.c.at, t.c.id)):
                self._state[(r.subject, r.modality, r.purpose)] = r.granted
            self._acks.update(
                {r.subject: r.text_version for r in conn.execute(select(disclosure_acks))}
            )
            self._flags.update({r.subject: r.role for r in conn.execute(select(subject_flags))})
            self._tombstones.update(conn.execute(select(tombstones.c.subject)).scalars())
            self._consent_id = conn.execute(select(func.max(t.c.id))).scalar() or 0
        self._tombs_at = self.clock()
        return self

    def refresh(self) -> tuple[frozenset[str], list[tuple[str, str]]]:
        """Read what other processes (the CLI, another API process) changed since the last
        read: consents by row id, tombstones by time (with slack for clocks). Returns the new
        tombstone keys and the (subject, modality) pairs newly withdrawn, for the caller to
        clear from its live state. Cheap when nothing changed: two indexed queries."""
        if self.store is None:
            return frozenset(), []
        t = tables.consents
        since = self._tombs_at - 5.0
        withdrawn: list[tuple[str, str]] = []
        with self.store.connect() as conn:
            rows = conn.execute(select(t).where(t.c.id > self._consent_id).order_by(t.c.id)).all()
            keys = set(
                conn.execute(select(tombstones.c.subject).where(tombstones.c.at >= since))
                .scalars()
                .all()
            )
            if rows:  # a changed consent may come with a disclosure or a flag: re-read those
                self._acks.update(
                    {r.subject: r.text_version for r in conn.execute(select(disclosure_acks))}
                )
                self._flags.update({r.subject: r.role for r in conn.execute(select(subject_flags))})
        self._tombs_at = self.clock()
        with self._lock:
            for r in rows:
                was = self._state.get((r.subject, r.modality, r.purpose))
                self._state[(r.subject, r.modality, r.purpose)] = r.granted
                if not r.granted and was is not False:
                    withdrawn.append((r.subject, r.modality))
                self._consent_id = max(self._consent_id, r.id)
        new = frozenset(keys - self._tombstones)
        self._tombstones.update(new)
        return new, withdrawn

    def _upsert(self, table: Any, row: dict[str, Any]) -> None:
        if self.store is None:
            return
        with self.store.begin() as conn:
            conn.execute(delete(table).where(table.c.subject == row["subject"]))
            conn.execute(table.insert().values(**row))
