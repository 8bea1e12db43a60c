"""The handoff queue: when a session escalates, a record an agent can work, not just a webhook.

A Delivery sink (``receive``) opens a handoff for an escalating decision in both modes (the
engine hands decisions over in-process; in scale-out the API process relays what the workers
published, after they wrote their rows). One open handoff per subject: it follows the customer
across channels and sessions. Status open -> claimed -> closed with an outcome, timed and
audited. Turns are copied from the stored (redacted) messages while text consent holds; a
revocation stops the copy (``on_revoke``) and the agent sees that it was withdrawn.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, update

from attune.delivery.handoff_view import render, route_queue, stats
from attune.delivery.webhooks import Webhooks
from attune.policy.rules import Policy
from attune.privacy.audit import AuditLog
from attune.privacy.consent import ConsentLedger
from attune.signals.text.language import guess_language
from attune.signals.text.requests import asks_for_person
from attune.storage import tables
from attune.storage.store import Store

OUTCOMES = ("resolved", "callback", "not_reachable")
ACTIVE = ("open", "claimed")
LOOKBACK_S = 24 * 3600.0  # the earlier turns (any channel) a handoff shows
SCHEMA = "attune.handoff/1"
h, turns, events = tables.handoffs, tables.handoff_turns, tables.events


class HandoffConflict(Exception):
    """The handoff is closed, or someone else's (HTTP 409)."""


@dataclass
class HandoffQueue:
    store: Store
    policy: Policy
    ledger: ConsentLedger
    audit: AuditLog
    webhooks: Webhooks
    ttl_s: float  # the handoff record: like decisions
    text_ttl_s: float  # its turns: like message text
    clock: Callable[[], float] = time.time
    flush: Callable[[], object] = lambda: None  # the engine's buffered rows, before reading
    release: Callable[[str, str, float], bool] = lambda sid, why, at: False
    opened: int = field(default=0)

    # -- receiving decisions ------------------------------------------------------------
    def receive(self, decision: dict[str, Any]) -> None:
        """A Delivery sink: open a handoff for an escalation; a decline closes it."""
        route = decision.get("route")
        if not route:
            return
        subject, sid = str(route["subject"]), str(decision["session_id"])
        current = self._active(subject)
        if route.get("declined"):
            if current is not None:
                self._finish(current, "declined", "customer")
            return
        if not decision.get("escalate"):
            return
        self.flush()  # the triggering turn is buffered in this process (in-process mode)
        if current is not None:  # it follows them: add this session to the open handoff
            sessions = list((current.context or {}).get("sessions", []))
            if sid not in sessions:
                context = {**(current.context or {}), "sessions": [*sessions, sid]}
                with self.store.begin() as conn:
                    conn.execute(update(h).where(h.c.id == current.id).values(context=context))
            return
        self._open(decision, route, subject, sid)

    def _open(self, decision: dict[str, Any], route: dict[str, Any], subject: str, sid: str) -> str:
        now = self.clock()
        esc = decision.get("escalation") or {}
        texts = self._customer_texts(subject, decision["at"])
        language = _language(route.get("locale"), texts)
        moment = route.get("moment")
        vulnerable = bool(esc.get("vulnerable"))
        intent = esc.get("intent")
        hid = secrets.token_hex(8)
        context = {
            "sessions": [sid],
            "since": decision["at"] - LOOKBACK_S,
            "state": decision.get("state"),
            "tried": esc.get("tried", []),
            "vulnerable": vulnerable,
            "explanation": decision.get("explanation"),
            "decision_id": decision.get("id"),
            "moment_label": self.policy.label(moment),
        }
        row = {
            "id": hid,
            "session_id": sid,
            "subject": subject,
            "channel": route.get("channel"),
            "language": language,
            "moment": moment,
            "queue": route_queue(self.policy, language, intent, moment, vulnerable),
            "status": "open",
            "reason": str(esc.get("reason") or "escalated"),
            "intent": intent,
            "opened_at": now,
            "context": context,
            "expires_at": now + self.ttl_s,
        }
        with self.store.begin() as conn:
            conn.execute(h.insert().values(**row))
        self.opened += 1
        self.audit.append(
            "handoff_opened",
            "engine",
            subject,
            {"handoff_id": hid, "queue": row["queue"], "reason": row["reason"]},
            sync=False,
        )
        self._announce("handoff.opened", hid)
        return hid

    def _customer_texts(self, subject: str, at: float) -> list[str]:
        with self.store.connect() as conn:
            rows = conn.execute(
                select(events.c.payload).where(
                    events.c.subject == subject,
                    events.c.kind == "message",
                    events.c.at >= at - LOOKBACK_S,
                )
            ).all()
        return [
            str(p.get("text", ""))
            for (p,) in rows
            if isinstance(p, dict) and p.get("speaker", "customer") == "customer"
        ]

    # -- reading ------------------------------------------------------------------------
    def _active(self, subject: str) -> Any:
        with self.store.connect() as conn:
            return conn.execute(
                select(h).where(h.c.subject == subject, h.c.status.in_(ACTIVE))
            ).first()

    def _row(self, hid: str) -> Any:
        with self.store.connect() as conn:
            return conn.execute(select(h).where(h.c.id == hid)).first()

    def get(
        self, hid: str, actor: str, transcript: bool = True, audit: bool = True
    ) -> dict[str, Any] | None:
        self.flush()
        row = self._row(hid)
        if row is None:
            return None
        self.sync(row)
        if transcript and audit:
            self.audit.append(
                "personal_data_read", actor, row.subject, {"what": "handoff"}, sync=False
            )
        return render(self.store, self._row(hid), self.clock(), self.ledger, transcript)

    def list(
        self,
        actor: str,
        status: str | None = None,
        channel: str | None = None,
        language: str | None = None,
        queue: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The queue, highest priority first (default: open and claimed)."""
        self.flush()
        conds = [h.c.status.in_(ACTIVE) if status is None else h.c.status == status]
        for col, value in ((h.c.channel, channel), (h.c.language, language), (h.c.queue, queue)):
            if value is not None:
                conds.append(col == value)
        with self.store.connect() as conn:
            rows = conn.execute(select(h).where(and_(*conds)).limit(1000)).all()
        now = self.clock()
        out = []
        for row in rows:
            self.sync(row)
            fresh = self._row(row.id)
            out.append(render(self.store, fresh, now, self.ledger, True))
        out.sort(key=lambda v: (-v["priority"], v["opened_at"]))
        for view in out[:limit]:
            self.audit.append(
                "personal_data_read",
                actor,
                next(r.subject for r in rows if r.id == view["id"]),
                {"what": "handoff"},
                sync=False,
            )
        return out[: max(1, min(limit, 500))]

    def stats(self) -> dict[str, Any]:
        """Volumes, times and outcomes by queue and language: no transcripts."""
        self.flush()
        return stats(self.store, self.clock())

    # -- working it ---------------------------------------------------------------------
    def claim(self, hid: str, actor: str) -> dict[str, Any] | None:
        row = self._row(hid)
        if row is None:
            return None
        if row.status == "closed":
            raise HandoffConflict(f"handoff {hid} is closed ({row.outcome}); it cannot be claimed")
        if row.status == "claimed" and row.claimed_by != actor:
            raise HandoffConflict(f"handoff {hid} was already claimed by another agent")
        if row.status == "open":
            with self.store.begin() as conn:
                done = conn.execute(
                    update(h)
                    .where(h.c.id == hid, h.c.status == "open")
                    .values(status="claimed", claimed_at=self.clock(), claimed_by=actor)
                ).rowcount
            if not done:  # another agent got there first
                raise HandoffConflict(f"handoff {hid} was already claimed by another agent")
            self.audit.append("handoff_claimed", actor, row.subject, {"handoff_id": hid})
            self._announce("handoff.claimed", hid)
        return self.get(hid, actor)

    def close(self, hid: str, actor: str, outcome: str) -> dict[str, Any] | None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        row = self._row(hid)
        if row is None:
            return None
        if row.status == "closed":
            raise HandoffConflict(f"handoff {hid} is already closed ({row.outcome})")
        if row.status != "claimed" or row.claimed_by != actor:
            raise HandoffConflict(f"handoff {hid} is not claimed by you: claim it first")
        self.sync(row)
        self._finish(row, outcome, actor)
        return self.get(hid, actor)

    def _finish(self, row: Any, outcome: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            conn.execute(
                update(h)
                .where(h.c.id == row.id)
                .values(status="closed", closed_at=now, outcome=outcome)
            )
        for sid in (row.context or {}).get("sessions", [row.session_id]):
            self.release(sid, "closed", now)  # the session's escalation ends with it
        self.audit.append(
            "handoff_closed", actor, row.subject, {"handoff_id": row.id, "outcome": outcome}
        )
        self._announce("handoff.closed", row.id)

    # -- turns and consent --------------------------------------------------------------
    def sync(self, row: Any) -> None:
        """Copy the subject's new message turns into the handoff, while text consent holds."""
        if row.status == "closed" or row.consent_withdrawn_at is not None:
            return
        if not self.ledger.allows(row.subject, "text"):
            return
        self._copy(row)

    def _copy(self, row: Any) -> None:
        since = float((row.context or {}).get("since", row.opened_at - LOOKBACK_S))
        s, st = tables.signals, tables.states
        with self.store.begin() as conn:
            have = {
                e
                for (e,) in conn.execute(
                    select(turns.c.event_id).where(turns.c.handoff_id == row.id)
                )
            }
            found = conn.execute(
                select(events.c.id, events.c.session_id, events.c.at, events.c.payload)
                .where(
                    events.c.subject == row.subject,
                    events.c.kind == "message",
                    events.c.at >= since,
                )
                .order_by(events.c.at)
            ).all()
            new = []
            for ev in found:
                p = ev.payload if isinstance(ev.payload, dict) else {}
                if ev.id in have or not p.get("text"):
                    continue
                speaker = str(p.get("speaker", "customer"))
                intent, conf, state = None, None, None
                if speaker == "customer":
                    sig = conn.execute(
                        select(s.c.evidence, s.c.confidence)
                        .where(s.c.event_id == ev.id, s.c.name == "intent")
                        .order_by(s.c.confidence.desc())
                    ).first()
                    if sig is not None:
                        intent, conf = _intent_of(sig.evidence), float(sig.confidence)
                    srow = conn.execute(
                        select(st.c.probs, st.c.top, st.c.intensity, st.c.uncertain)
                        .where(st.c.session_id == ev.session_id, st.c.at == ev.at)
                        .order_by(st.c.id.desc())
                    ).first()
                    if srow is not None:
                        state = {
                            "top": srow.top,
                            "intensity": srow.intensity,
                            "uncertain": srow.uncertain,
                            "probs": srow.probs,
                        }
                new.append(
                    {
                        "handoff_id": row.id,
                        "event_id": ev.id,
                        "subject": row.subject,
                        "session_id": ev.session_id,
                        "channel": (p.get("context") or {}).get("channel"),
                        "speaker": speaker,
                        "text": str(p["text"]),
                        "at": ev.at,
                        "intent": intent,
                        "intent_conf": conf,
                        "state": state,
                        "expires_at": ev.at + self.text_ttl_s,
                    }
                )
            if new:
                conn.execute(self.store.insert_ignore(turns), new)

    def on_revoke(self, subject: str, modality: str) -> None:
        """A privacy revoke listener, called before the raw text is purged: keep what the
        agent already had, and stop there."""
        if modality != "text":
            return
        with self.store.connect() as conn:
            rows = conn.execute(
                select(h).where(h.c.subject == subject, h.c.status.in_(ACTIVE))
            ).all()
        now = self.clock()
        for row in rows:
            if row.consent_withdrawn_at is None:
                self._copy(row)  # turns up to the revocation (consent held until now)
                with self.store.begin() as conn:
                    conn.execute(update(h).where(h.c.id == row.id).values(consent_withdrawn_at=now))

    # -- webhooks -----------------------------------------------------------------------
    def _announce(self, kind: str, hid: str) -> None:
        if not self.webhooks.urls:
            return
        row = self._row(hid)
        if row is None:
            return
        self.sync(row)
        body = {
            "schema": SCHEMA,
            "handoff": render(self.store, self._row(hid), self.clock(), self.ledger, True),
        }
        with contextlib.suppress(RuntimeError):  # no running loop (a CLI, a bench)
            self.webhooks.fire(kind, body)


def _language(locale: str | None, texts: list[str]) -> str:
    if locale:
        return locale.split("-")[0].lower()[:8]
    for text in reversed(texts):  # the words that asked for a person name their language
        asked = asks_for_person(text)
        if asked is not None:
            return asked[0]
    return guess_language(texts)


def _intent_of(evidence: str) -> str | None:
    from attune.signals.text.analyzer import PHRASES

    for intent, phrase in PHRASES.items():
        if evidence.startswith(phrase):
            return intent
    if evidence.startswith("intent: "):
        return evidence.removeprefix("intent: ").split(" (")[0]
    return None
