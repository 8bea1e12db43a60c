"""Read what the engine stored and turn it into the measure area's plain records.

The only module of ``attune.measure`` that does I/O (besides ``registry``): everything it
returns goes into the pure functions (kpis, heatmap, churn, quality, readout).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from attune.measure.churn import CustomerSession
from attune.measure.disparity import DecisionRecord
from attune.measure.experiments import ARMS
from attune.measure.heatmap import Touch
from attune.measure.journey import JourneySession
from attune.measure.kpis import OutcomeRecord, SessionRecord, StatePoint
from attune.measure.quality import Judgement
from attune.measure.units import PRE_PERIOD_DAYS, Unit
from attune.signals.taxonomy import NEGATIVE_STATES
from attune.storage import tables
from attune.storage.store import Store

DEVICE_KEYS = ("device", "deviceType")
DAY = 86400.0


def _intensity_band(x: float) -> str:
    return "high" if x >= 0.6 else "medium" if x >= 0.3 else "low"


def _devices(store: Store, moment: str | None) -> dict[str, str]:
    """Device per session from the first stored behaviour event that names one."""
    t = tables.events
    out: dict[str, str] = {}
    with store.connect() as conn:
        for sid, payload in conn.execute(
            select(t.c.session_id, t.c.payload).where(t.c.kind == "behaviour").order_by(t.c.at)
        ):
            if sid in out or not isinstance(payload, dict):
                continue
            ctx = payload.get("context") or {}
            device = next((ctx.get(k) for k in DEVICE_KEYS if ctx.get(k)), None)
            if device:
                out[sid] = str(device)[:32]
    return out


def sessions(store: Store, moment: str | None = None) -> list[SessionRecord]:
    s, o, st = tables.sessions, tables.outcomes, tables.states
    records: dict[str, SessionRecord] = {}
    with store.connect() as conn:
        q = select(
            s.c.id, s.c.subject, s.c.started_at, s.c.arm, s.c.moment, s.c.channel, s.c.top_state
        )
        if moment:
            q = q.where(s.c.moment == moment)
        for row in conn.execute(q):
            records[row.id] = SessionRecord(
                row.id,
                row.subject,
                row.started_at,
                row.arm,
                row.moment,
                row.channel,
                top_state=row.top_state,
            )
        for orow in conn.execute(select(o.c.session_id, o.c.name, o.c.at, o.c.value, o.c.step)):
            if orow.session_id in records:
                records[orow.session_id].outcomes.append(
                    OutcomeRecord(orow.name, orow.at, orow.value, orow.step)
                )
        for srow in conn.execute(
            select(st.c.session_id, st.c.at, st.c.top, st.c.intensity, st.c.step).order_by(st.c.at)
        ):
            if srow.session_id in records:
                records[srow.session_id].states.append(
                    StatePoint(srow.at, srow.top, srow.intensity, srow.step)
                )
    # Model versions behind a session: the analyzer sources of its signals, e.g. "text@2".
    sg = tables.signals
    with store.connect() as conn:
        sources: dict[str, set[str]] = defaultdict(set)
        for sid, source in conn.execute(select(sg.c.session_id, sg.c.source).distinct()):
            if source:  # "behaviour/rage_click@1" -> the analyzer's version "behaviour@1"
                name, _, version = str(source).partition("@")
                sources[sid].add(f"{name.split('/')[0]}@{version}" if version else name)
    for sid, found in sources.items():
        if sid in records:
            records[sid].model_version = ",".join(sorted(found))[:200]
    devices = _devices(store, moment)
    # New vs existing: a subject's first session in the store is "new", any later one
    # "existing" (the store keeps no customer master data to say more).
    seen: set[str] = set()
    for r in sorted(records.values(), key=lambda r: r.started_at):
        r.segments["customer_type"] = "existing" if r.subject in seen else "new"
        seen.add(r.subject)
    for r in records.values():
        if r.id in devices:
            r.segments["device"] = devices[r.id]
        r.segments["intensity"] = _intensity_band(r.peak_intensity)
    return list(records.values())


def _session_metrics(rs: list[SessionRecord]) -> dict[str, float]:
    converted = [o for r in rs for o in r.outcomes if o.name == "conversion"]
    abandoned = any(o.name == "abandonment" for r in rs for o in r.outcomes)
    worst = [r.worst_state for r in rs]
    metrics: dict[str, float] = {
        "conversion": float(bool(converted)),
        "dropout": float(abandoned and not converted),
        "frustrated_share": float("frustrated" in worst),
        "negative_share": float(any(w in NEGATIVE_STATES for w in worst)),
    }
    if converted:
        metrics["order_value"] = sum(o.value or 0.0 for o in converted)
    csat = [o.value for r in rs for o in r.outcomes if o.name == "csat" and o.value is not None]
    if csat:
        metrics["csat"] = sum(csat) / len(csat)
    return metrics


def pre_period_covariates(earlier: list[SessionRecord]) -> dict[str, float]:
    """A customer's earlier sessions as CUPED covariates, one per metric: the mean of that
    metric over those sessions (order value: revenue per earlier session, 0 without orders)."""
    if not earlier:
        return {}
    per = [_session_metrics([r]) for r in earlier]
    out = {k: sum(m[k] for m in per) / len(per) for k in per[0] if k != "order_value"}
    out["order_value"] = sum(m.get("order_value", 0.0) for m in per) / len(per)
    csat = [m["csat"] for m in per if "csat" in m]
    if csat:
        out["csat"] = sum(csat) / len(csat)
    return out


def units(
    records: list[SessionRecord], earlier: dict[str, list[SessionRecord]] | None = None
) -> list[Unit]:
    """One unit per subject (assignment is per subject), metrics over their sessions and, when
    ``earlier`` holds the subject's pre-period sessions, covariates from those."""
    by_subject: dict[str, list[SessionRecord]] = defaultdict(list)
    for r in records:
        if r.arm in ARMS:
            by_subject[r.subject].append(r)
    out = []
    for subject, rs in by_subject.items():
        rs.sort(key=lambda r: r.started_at)
        arms = {r.arm for r in rs}
        if len(arms) != 1:
            continue  # a subject seen in both arms (e.g. after a hard stop) is left out
        covariates = pre_period_covariates((earlier or {}).get(subject, []))
        out.append(
            Unit(
                str(rs[0].arm),
                rs[0].started_at,
                _session_metrics(rs),
                covariates,
                dict(rs[0].segments),
            )
        )
    return out


def first_exposures(store: Store, experiment_id: str) -> dict[str, float]:
    """When each subject was first assigned an arm of this experiment."""
    from attune.storage.tables_measure import experiment_exposures as x

    with store.connect() as conn:
        rows = conn.execute(
            select(x.c.subject, x.c.at).where(x.c.experiment_id == experiment_id)
        ).all()
    return {str(subject): float(at) for subject, at in rows}


def experiment_sessions(
    store: Store, experiment_id: str, pre_period_days: float = PRE_PERIOD_DAYS
) -> tuple[list[SessionRecord], dict[str, list[SessionRecord]]]:
    """The experiment's sessions (from each subject's first exposure on) and, per subject, the
    sessions in the ``pre_period_days`` before it (the CUPED pre-period, whatever their arm:
    they happened before this experiment assigned one). Without logged exposures (older data),
    every session with an arm counts and there is no pre-period."""
    records = sessions(store)
    first = first_exposures(store, experiment_id)
    if not first:
        return [r for r in records if r.arm in ARMS], {}
    window = pre_period_days * DAY
    during: list[SessionRecord] = []
    earlier: dict[str, list[SessionRecord]] = defaultdict(list)
    for r in records:
        at = first.get(r.subject)
        if at is None:
            continue
        if r.started_at >= at:
            if r.arm in ARMS:
                during.append(r)
        elif r.started_at >= at - window:
            earlier[r.subject].append(r)
    return during, dict(earlier)


def touches(store: Store, moment: str | None = None) -> list[Touch]:
    st, sg, o = tables.states, tables.signals, tables.outcomes
    out: list[Touch] = []
    with store.connect() as conn:
        for row in conn.execute(select(st.c.session_id, st.c.step, st.c.top, st.c.intensity)):
            out.append(
                Touch(
                    row.session_id,
                    step=row.step,
                    page=row.step,
                    state=row.top,
                    intensity=row.intensity,
                )
            )
        for grow in conn.execute(select(sg.c.session_id, sg.c.step, sg.c.name)):
            out.append(Touch(grow.session_id, step=grow.step, page=grow.step, signal=grow.name))
        for orow in conn.execute(select(o.c.session_id, o.c.step).where(o.c.name == "abandonment")):
            out.append(Touch(orow.session_id, step=orow.step, page=orow.step, dropped=True))
    from attune.measure.elements import event_touches

    out.extend(event_touches(store))
    return out


def customer_sessions(store: Store) -> list[CustomerSession]:
    """Every stored session of every subject, with its mean state distribution (none stored:
    nothing was noticed, read as calm) and its behaviour signals, for the churn trend."""
    s, st, sg = tables.sessions, tables.states, tables.signals
    acc: dict[str, dict[str, Any]] = {}
    with store.connect() as conn:
        for row in conn.execute(select(s.c.id, s.c.subject, s.c.started_at)):
            acc[row.id] = {
                "subject": row.subject,
                "at": row.started_at,
                "n": 0,
                "probs": defaultdict(float),
                "signals": 0,
            }
        for srow in conn.execute(select(st.c.session_id, st.c.subject, st.c.at, st.c.probs)):
            a = acc.setdefault(
                srow.session_id,
                {"subject": srow.subject, "at": srow.at, "n": 0, "probs": defaultdict(float)},
            )
            a["at"] = min(a["at"], srow.at) if a["at"] is not None else srow.at
            a["n"] += 1
            for k, v in (srow.probs if isinstance(srow.probs, dict) else {}).items():
                if isinstance(v, (int, float)):
                    a["probs"][k] += float(v)
        for sid, n in conn.execute(
            select(sg.c.session_id, func.count())
            .where(sg.c.modality == "behaviour")
            .group_by(sg.c.session_id)
        ):
            if sid in acc:
                acc[sid]["signals"] = int(n)
    return [
        CustomerSession(
            a["subject"],
            float(a["at"]),
            {k: v / a["n"] for k, v in a["probs"].items()} if a["n"] else {},
            int(a.get("signals", 0)),
        )
        for a in acc.values()
        if a["subject"] is not None and a["at"] is not None
    ]


def _session_context(store: Store) -> dict[str, dict[str, Any]]:
    """The context of each session's first stored event (locale, device, group fields)."""
    t = tables.events
    out: dict[str, dict[str, Any]] = {}
    with store.connect() as conn:
        for sid, payload in conn.execute(select(t.c.session_id, t.c.payload).order_by(t.c.at)):
            if sid in out or not isinstance(payload, dict):
                continue
            ctx = payload.get("context")
            if isinstance(ctx, dict) and ctx:
                out[sid] = ctx
    return out


def _groups_of(ctx: dict[str, Any]) -> dict[str, str]:
    """Group fields from an event context: language (from the locale), device, segment, and
    every string field of ``context.groups`` (whatever the company sends)."""
    out: dict[str, str] = {}
    locale = ctx.get("locale")
    if isinstance(locale, str) and locale:
        out["language"] = locale.replace("_", "-").split("-")[0].lower()[:8]
    device = next((ctx.get(k) for k in DEVICE_KEYS if ctx.get(k)), None)
    if device:
        out["device"] = str(device)[:32]
    if isinstance(ctx.get("segment"), str):
        out["segment"] = ctx["segment"][:64]
    extra = ctx.get("groups")
    if isinstance(extra, dict):
        for k, v in list(extra.items())[:20]:
            if isinstance(k, str) and isinstance(v, (str, int, bool)) and k not in out:
                out[k[:32]] = str(v)[:64]
    return out


def decision_records(store: Store) -> list[DecisionRecord]:
    """Per session on the adaptive journey: escalated, offers paused, modes seen, its groups
    (channel and use case from the session, customer type, and the event context's fields)."""
    s, d = tables.sessions, tables.decisions
    sessions_by_id: dict[str, Any] = {}
    acc: dict[str, dict[str, Any]] = {}
    with store.connect() as conn:
        for row in conn.execute(
            select(s.c.id, s.c.subject, s.c.started_at, s.c.arm, s.c.channel, s.c.moment)
        ):
            sessions_by_id[row.id] = row
        for drow in conn.execute(
            select(d.c.session_id, d.c.mode, d.c.escalate, d.c.offers_allowed, d.c.arm)
        ):
            if drow.arm == "control":
                continue
            a = acc.setdefault(drow.session_id, {"esc": False, "paused": False, "modes": set()})
            a["esc"] |= bool(drow.escalate)
            a["paused"] |= not drow.offers_allowed
            a["modes"].add(drow.mode)
    seen: set[str] = set()
    kind: dict[str, str] = {}
    for row in sorted(sessions_by_id.values(), key=lambda r: r.started_at):
        kind[row.id] = "existing" if row.subject in seen else "new"
        seen.add(row.subject)
    contexts = _session_context(store)
    out = []
    for sid, a in acc.items():
        groups = _groups_of(contexts.get(sid, {}))
        srow = sessions_by_id.get(sid)
        if srow is not None:
            if srow.channel:
                groups["channel"] = srow.channel
            if srow.moment:
                groups["use_case"] = srow.moment
            groups["customer_type"] = kind[sid]
        out.append(DecisionRecord(sid, groups, a["esc"], a["paused"], frozenset(a["modes"])))
    return out


def journey_sessions(store: Store) -> list[JourneySession]:
    """Per session: the steps in the order first visited (page events, else state steps), the
    last confident state per step, where it was abandoned, and its channel."""
    ev, st, o, s = tables.events, tables.states, tables.outcomes, tables.sessions
    visits: dict[str, list[str]] = defaultdict(list)
    states: dict[str, dict[str, str]] = defaultdict(dict)
    dropped: dict[str, str] = {}
    with store.connect() as conn:
        channels = dict(conn.execute(select(s.c.id, s.c.channel)).all())
        for sid, payload in conn.execute(
            select(ev.c.session_id, ev.c.payload).where(ev.c.kind == "behaviour").order_by(ev.c.at)
        ):
            if isinstance(payload, dict) and payload.get("type") in ("page", "screen"):
                props = payload.get("properties") or {}
                path = str(props.get("path") or payload.get("name") or "")[:200]
                if path and path not in visits[sid]:
                    visits[sid].append(path)
        for row in conn.execute(
            select(st.c.session_id, st.c.step, st.c.top, st.c.uncertain).order_by(st.c.at)
        ):
            if row.step and row.step not in visits[row.session_id]:
                visits[row.session_id].append(row.step)  # retention removed the page events
            if row.step and row.top and not row.uncertain:
                states[row.session_id][row.step] = row.top
        for sid, step in conn.execute(
            select(o.c.session_id, o.c.step).where(o.c.name == "abandonment")
        ):
            dropped[sid] = step or ""
    return [
        JourneySession(sid, channels.get(sid), steps, states.get(sid, {}), dropped.get(sid))
        for sid, steps in visits.items()
        if steps
    ]


def judgements(store: Store) -> list[Judgement]:
    """Feedback rows with the shown state's confidence from the last state before them."""
    f, st = tables.feedback, tables.states
    with store.connect() as conn:
        fb = list(conn.execute(select(f)))
        sids = {row.session_id for row in fb}
        states: dict[str, list[Any]] = defaultdict(list)
        if sids:
            for row in conn.execute(
                select(st.c.session_id, st.c.at, st.c.probs, st.c.uncertain)
                .where(st.c.session_id.in_(sids))
                .order_by(st.c.at)
            ):
                states[row.session_id].append(row)
    out = []
    for row in fb:
        before = [s for s in states.get(row.session_id, []) if s.at <= row.at]
        last = before[-1] if before else None
        conf = float((last.probs or {}).get(row.shown_state, 0.0)) if last else None
        out.append(
            Judgement(
                row.shown_state,
                row.correct,
                row.true_state,
                conf,
                bool(last.uncertain) if last else False,
                row.group,
                row.model_version,
            )
        )
    return out


def signal_scores(store: Store) -> dict[str, dict[str, list[float]]]:
    """Signal values per detector name and per source version, for drift between versions."""
    sg = tables.signals
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with store.connect() as conn:
        for row in conn.execute(select(sg.c.name, sg.c.source, sg.c.value)):
            out[row.name][row.source or "(unknown)"].append(float(row.value))
    return {k: dict(v) for k, v in out.items()}
