"""How a handoff reads: the JSON an agent (and a contact-centre webhook) gets, its queue,
and the statistics analysts see (no transcripts)."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import select

from attune.delivery.coaching import coaching, opener, priority, rising
from attune.policy.explain import STATE_WORDS
from attune.policy.rules import Policy
from attune.privacy.consent import ConsentLedger
from attune.storage import tables
from attune.storage.store import Store

h, turns = tables.handoffs, tables.handoff_turns


def route_queue(
    policy: Policy, language: str | None, intent: str | None, moment: str | None, vulnerable: bool
) -> str:
    """The first queue of the playbooks' handoff routing whose conditions all hold."""
    default = None
    for lp in policy.playbooks:
        cfg = lp.playbook.handoff
        default = default or cfg.default_queue
        for q in cfg.queues:
            if q.languages and language not in q.languages:
                continue
            if q.intents and intent not in q.intents:
                continue
            if q.moments and moment not in q.moments:
                continue
            if q.vulnerable is not None and q.vulnerable != vulnerable:
                continue
            return q.name
    return default or "support"


def _reason(row: Any, label: str | None) -> str:
    where = f" in the {label}" if label else ""
    if row.reason == "requested":
        return f"The customer asked to speak with a person{where}."
    words = STATE_WORDS.get(row.reason, row.reason)
    return f"Signs of {words}{where} brought in a person."


def render(
    store: Store, row: Any, now: float, ledger: ConsentLedger, transcript: bool
) -> dict[str, Any]:
    ctx = row.context or {}
    with store.connect() as conn:
        found = conn.execute(
            select(turns).where(turns.c.handoff_id == row.id).order_by(turns.c.at)
        ).all()
    arc = [
        {"at": t.at, "session_id": t.session_id, "channel": t.channel, **t.state}
        for t in found
        if t.speaker == "customer" and t.state
    ]
    intents = [
        {"at": t.at, "intent": t.intent, "confidence": t.intent_conf}
        for t in found
        if t.intent is not None
    ]
    state = (arc[-1] if arc else ctx.get("state")) or {}
    state = {k: state.get(k) for k in ("top", "intensity", "uncertain", "probs")}
    end = row.claimed_at or row.closed_at or now
    withdrawn = row.consent_withdrawn_at is not None
    sees = any(t.speaker == "customer" for t in found)  # the customer's words, not only ours
    text_ok = ledger.allows(row.subject, "text")
    intent = row.intent or (intents[-1]["intent"] if intents else None)
    view: dict[str, Any] = {
        "id": row.id,
        "session_id": row.session_id,
        "sessions": ctx.get("sessions", [row.session_id]),
        "status": row.status,
        "priority": priority(
            state, row.reason, bool(ctx.get("vulnerable")), rising(arc), end - row.opened_at
        ),
        "queue": row.queue,
        "channel": row.channel,
        "channels": sorted({t.channel for t in found if t.channel} | {row.channel or "web"}),
        "language": row.language,
        "moment": row.moment,
        "intent": intent,
        "state": state,
        "reason": _reason(row, ctx.get("moment_label")),
        "reason_code": row.reason,
        "explanation": ctx.get("explanation"),
        "vulnerable": bool(ctx.get("vulnerable")),
        "tried": ctx.get("tried", []),
        "consent": {
            "text": text_ok and not withdrawn,
            "withdrawn_at": row.consent_withdrawn_at,
        },
        "suggested_opener": opener(row.language, row.reason, state.get("top"), sees),
        "tone": coaching(state, withdrawn, sees)["tone"],
        "coaching": coaching(state, withdrawn, sees),
        "opened_at": row.opened_at,
        "waiting_s": round(end - row.opened_at, 1),
        "claimed_at": row.claimed_at,
        "claimed_by": row.claimed_by,
        "closed_at": row.closed_at,
        "outcome": row.outcome,
    }
    if transcript:
        view["transcript"] = [
            {
                "speaker": t.speaker,
                "text": t.text,
                "at": t.at,
                "channel": t.channel,
                "session_id": t.session_id,
            }
            for t in found
        ]
        view["arc"] = arc
        view["intents"] = intents
    return view


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def stats(store: Store, now: float) -> dict[str, Any]:
    with store.connect() as conn:
        rows = conn.execute(select(h)).all()
        calm: dict[str, float] = {}
        for t in conn.execute(
            select(turns.c.handoff_id, turns.c.at, turns.c.state)
            .where(turns.c.speaker == "customer")
            .order_by(turns.c.at)
        ):
            calm.setdefault(t.handoff_id, 0.0)
            top = (t.state or {}).get("top")
            if top in ("neutral", "satisfied") and not calm[t.handoff_id]:
                calm[t.handoff_id] = t.at
    opened = {r.id: r.opened_at for r in rows}
    groups: dict[str, dict[str, dict[str, Any]]] = {"queue": {}, "language": {}}
    for r in rows:
        for key in groups:
            name = str(getattr(r, key) or "unknown")
            g = groups[key].setdefault(
                name, {"volume": 0, "open": 0, "claimed": 0, "closed": 0, "outcomes": {}, "_c": []}
            )
            g["volume"] += 1
            g[r.status] += 1
            if r.outcome:
                g["outcomes"][r.outcome] = g["outcomes"].get(r.outcome, 0) + 1
            if r.claimed_at:
                g["_c"].append(r.claimed_at - r.opened_at)
    for by in groups.values():
        for g in by.values():
            g["median_time_to_claim_s"] = _median(g.pop("_c"))
    deesc = [
        at - opened[hid] for hid, at in calm.items() if at and hid in opened and at >= opened[hid]
    ]
    return {
        "volume": len(rows),
        "open": sum(r.status == "open" for r in rows),
        "claimed": sum(r.status == "claimed" for r in rows),
        "closed": sum(r.status == "closed" for r in rows),
        "median_time_to_claim_s": _median(
            [r.claimed_at - r.opened_at for r in rows if r.claimed_at]
        ),
        "median_handling_s": _median(
            [r.closed_at - r.claimed_at for r in rows if r.closed_at and r.claimed_at]
        ),
        "median_time_to_deescalation_s": _median(deesc),
        "oldest_open_waiting_s": _median(
            [max(now - r.opened_at for r in rows if r.status == "open")]
        )
        if any(r.status == "open" for r in rows)
        else None,
        "by_queue": groups["queue"],
        "by_language": groups["language"],
    }
