"""Proactive outreach: which flagged customers to contact, on which channel, when, in which
tone, and who is held out (no contact) so that the effect is measured.

Candidates come from the churn early warning (``measure.churn``) and from abandoned journeys (an
``abandonment`` outcome in the last week with no conversion or order after it). The playbooks
declare each outreach (approval and red lines apply: ``policy.outreach_rules``). A contact
goes only to a channel the customer agreed to (``contact_consents``), in the playbook's order;
never within ``cooling_off_h`` of their last frustrated or anxious state; at their usual active
hour when known, outside quiet hours in their time; at most ``max_per_30d`` times. Assignment
to the holdout is deterministic per subject and outreach (``policy.assignment.bucket``).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from attune.delivery.webhooks import Webhooks
from attune.measure.churn import churn_warning
from attune.measure.load import customer_sessions
from attune.policy.assignment import bucket
from attune.policy.rules import Policy, resolve_content
from attune.policy.schema import Outreach
from attune.storage import tables
from attune.storage.store import Store

DAY, WINDOW_30D, ABANDON_LOOKBACK = 86400.0, 30 * 86400.0, 7 * 86400.0
DISTRESS = ("frustrated", "anxious")
CONVERTED = ("conversion", "order")
SCHEMA = "attune.outreach/1"


def quiet(hour: int, hours: tuple[int, int]) -> bool:
    start, end = hours
    return (start <= hour or hour < end) if start > end else (start <= hour < end)


def send_time(
    earliest: float, active_hour: int | None, quiet_hours: tuple[int, int], offset_min: int
) -> float:
    """The first moment at or after ``earliest``: their active hour (local) when known and
    allowed, and never inside quiet hours (local)."""
    shift = offset_min * 60.0
    local = earliest + shift
    at = local
    if active_hour is not None and not quiet(active_hour, quiet_hours):
        at = (local // DAY) * DAY + active_hour * 3600.0
        if at + 3600.0 <= local:  # that hour is over today: tomorrow's
            at += DAY
        at = max(at, local)
    for _ in range(24):
        if not quiet(int(at // 3600 % 24), quiet_hours):
            break
        at = (at // 3600 + 1) * 3600.0
    return at - shift


@dataclass
class OutreachPlanner:
    store: Store
    policy: Policy
    webhooks: Webhooks
    log_ttl_s: float
    clock: Callable[[], float] = time.time

    def declared(self) -> list[tuple[Any, Outreach]]:
        return [(lp, o) for lp in self.policy.playbooks for o in lp.playbook.outreach]

    def plan(self, now: float | None = None, min_sessions: int = 4) -> dict[str, Any]:
        now = float(now if now is not None else self.clock())
        facts = self._facts(now)
        churn = churn_warning(customer_sessions(self.store), now, 0.0, min_sessions)["all"]
        risk = {c["customer"]: float(c["risk"]) for c in churn}
        items: list[dict[str, Any]] = []
        skipped: Counter[str] = Counter()
        for lp, o in self.declared():
            if o.trigger == "churn_risk":
                flagged = {s: r for s, r in risk.items() if r >= o.min_risk}
            else:
                flagged = {s: 1.0 for s in facts["abandoned"]}
            for subject, r in sorted(flagged.items()):
                item = self._one(lp, o, subject, r, facts, now)
                if isinstance(item, str):
                    skipped[item] += 1
                else:
                    items.append(item)
        items.sort(key=lambda i: (i["send_at"], i["subject"]))
        return {"at": now, "outreach": items, "skipped": dict(skipped)}

    def _one(
        self, lp: Any, o: Outreach, subject: str, risk: float, facts: dict[str, Any], now: float
    ) -> dict[str, Any] | str:
        sent = [t for t in facts["sent"][(subject, o.name)] if t > now - WINDOW_30D]
        if len(sent) >= o.max_per_30d:
            return "frequency_cap"
        consented = facts["channels"].get(subject, {})
        channel = next((c for c in o.channels if consented.get(c, (False, 0))[0]), None)
        if channel is None:
            return "no_consented_channel"
        offset = consented[channel][1]
        earliest = max(now, facts["distress"].get(subject, 0.0) + o.cooling_off_h * 3600.0)
        at = send_time(earliest, facts["active"].get(subject), o.quiet_hours, offset)
        arm = "holdout" if bucket(subject, f"outreach:{o.name}") < o.holdout else "contact"
        texts = lp.content.get(o.template, {}).get(o.tone, {})
        return {
            "id": f"{o.name}:{subject}:{int(at // DAY)}",
            "subject": subject,
            "outreach": o.name,
            "trigger": o.trigger,
            "risk": round(risk, 3),
            "arm": arm,
            "channel": channel if arm == "contact" else None,
            "send_at": at,
            "due": at <= now,
            "cooling_off_until": earliest if earliest > now else None,
            "tone": o.tone,
            "template": o.template,
            "message": {loc: resolve_content(lp, o.template, o.tone, loc) for loc in texts},
            "playbook_version": lp.playbook.key,
        }

    def _facts(self, now: float) -> dict[str, Any]:
        st, ss, oc = tables.states, tables.sessions, tables.outcomes
        cc, log = tables.contact_consents, tables.outreach_log
        with self.store.connect() as conn:
            distress: dict[str, float] = {}
            for subject, at in conn.execute(
                select(st.c.subject, st.c.at).where(
                    st.c.top.in_(DISTRESS), st.c.uncertain.is_(False)
                )
            ):
                distress[subject] = max(distress.get(subject, 0.0), at)
            channels: dict[str, dict[str, tuple[bool, int]]] = defaultdict(dict)
            for r in conn.execute(select(cc)):
                channels[r.subject][r.channel] = (bool(r.granted), int(r.utc_offset_min or 0))
            hours: dict[str, Counter[int]] = defaultdict(Counter)
            for subject, started in conn.execute(select(ss.c.subject, ss.c.started_at)):
                offset = next(iter(channels.get(subject, {}).values()), (False, 0))[1]
                hours[subject][int((started + offset * 60) // 3600 % 24)] += 1
            last_abandon: dict[str, float] = {}
            last_convert: dict[str, float] = {}
            for r in conn.execute(
                select(oc.c.subject, oc.c.name, oc.c.at).where(oc.c.at > now - ABANDON_LOOKBACK)
            ):
                into = last_abandon if r.name == "abandonment" else last_convert
                if r.name == "abandonment" or r.name in CONVERTED:
                    into[r.subject] = max(into.get(r.subject, 0.0), r.at)
            sent: dict[tuple[str, str], list[float]] = defaultdict(list)
            for r in conn.execute(select(log.c.subject, log.c.outreach, log.c.at)):
                sent[(r.subject, r.outreach)].append(r.at)
        return {
            "distress": distress,
            "channels": channels,
            "active": {s: c.most_common(1)[0][0] for s, c in hours.items() if c},
            "abandoned": sorted(
                s for s, at in last_abandon.items() if last_convert.get(s, 0.0) < at
            ),
            "sent": sent,
        }

    def dispatch(self, now: float | None = None) -> dict[str, Any]:
        """Log what is due (both arms: the holdout is the comparison) and send the contact
        arm to the webhooks (``outreach.due``, schema ``attune.outreach/1``)."""
        now = float(now if now is not None else self.clock())
        due = [i for i in self.plan(now)["outreach"] if i["due"]]
        log = tables.outreach_log
        with self.store.connect() as conn:  # one per outreach, customer and day: idempotent
            done = {
                r
                for (r,) in conn.execute(
                    select(log.c.id).where(log.c.id.in_([i["id"] for i in due]))
                )
            }
        due = [i for i in due if i["id"] not in done]
        rows = [
            {
                "id": i["id"],
                "subject": i["subject"],
                "outreach": i["outreach"],
                "arm": i["arm"],
                "channel": i["channel"],
                "at": now,
                "expires_at": now + self.log_ttl_s,
            }
            for i in due
        ]
        if rows:
            with self.store.begin() as conn:
                conn.execute(self.store.insert_ignore(tables.outreach_log), rows)
        sent = [i for i in due if i["arm"] == "contact"]
        for item in sent:
            with contextlib.suppress(RuntimeError):  # no running loop (a CLI)
                self.webhooks.fire("outreach.due", {"schema": SCHEMA, "outreach": item})
        return {"logged": len(rows), "sent": len(sent), "held_out": len(rows) - len(sent)}

    def results(self) -> dict[str, Any]:
        """Per outreach and arm: customers logged, and the share who converted (or ordered)
        afterwards. Aggregates only."""
        log, oc = tables.outreach_log, tables.outcomes
        with self.store.connect() as conn:
            logged = conn.execute(select(log.c.subject, log.c.outreach, log.c.arm, log.c.at)).all()
            after: dict[str, float] = {}
            for r in conn.execute(select(oc.c.subject, oc.c.at).where(oc.c.name.in_(CONVERTED))):
                after[r.subject] = max(after.get(r.subject, 0.0), r.at)
        out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
        for name in sorted({r.outreach for r in logged}):
            for arm in ("contact", "holdout"):
                rs = [r for r in logged if r.outreach == name and r.arm == arm]
                won = sum(after.get(r.subject, 0.0) > r.at for r in rs)
                out[name][arm] = {
                    "customers": len(rs),
                    "converted": won,
                    "rate": round(won / len(rs), 4) if rs else 0.0,
                }
        return {"outreach": dict(out)}
