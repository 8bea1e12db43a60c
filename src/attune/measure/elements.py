"""Touches from stored behaviour events: which pages a session visited (the denominator of a
step's rates) and which element (CSS selector on a page) it interacted with, with the signals
and states that followed within a few seconds.

The store keeps behaviour events (with ``properties.selector``) until their retention ends;
after that, element detail is gone and only step/page heatmaps remain.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from attune.measure.heatmap import Touch
from attune.storage import tables
from attune.storage.store import Store

WINDOW_S = 5.0  # a signal or state this soon after an interaction is attributed to it


def _interactions(
    store: Store, visits: set[tuple[str, str]]
) -> dict[str, tuple[list[float], list[str]]]:
    """Per session: times and "<page> <selector>" labels of element interactions; page
    visits (session, path) are collected into ``visits`` on the way."""
    ev = tables.events
    page: dict[str, str] = {}
    out: dict[str, tuple[list[float], list[str]]] = defaultdict(lambda: ([], []))
    with store.connect() as conn:
        rows = conn.execute(
            select(ev.c.session_id, ev.c.at, ev.c.payload)
            .where(ev.c.kind == "behaviour")
            .order_by(ev.c.session_id, ev.c.at)
        )
        for sid, at, payload in rows:
            if not isinstance(payload, dict):
                continue
            props: dict[str, Any] = payload.get("properties") or {}
            if payload.get("type") in ("page", "screen"):
                page[sid] = str(props.get("path") or payload.get("name") or "")[:200]
                if page[sid]:
                    visits.add((sid, page[sid]))
            elif props.get("selector"):
                times, labels = out[sid]
                times.append(float(at))
                labels.append(f"{page.get(sid, '?')} {str(props['selector'])[:80]}")
    return out


def event_touches(store: Store) -> list[Touch]:
    """Page visits (so a step's denominator is every session that reached it) and element
    interactions with the signals and states that followed them."""
    visits: set[tuple[str, str]] = set()
    inter = _interactions(store, visits)

    def element(sid: str, at: float) -> str | None:
        times, labels = inter.get(sid, ([], []))
        i = bisect.bisect_right(times, at) - 1
        return labels[i] if i >= 0 and at - times[i] <= WINDOW_S else None

    out = [Touch(sid, element=label) for sid, (_, labels) in inter.items() for label in labels]
    out += [Touch(sid, step=path, page=path) for sid, path in visits]
    st, sg = tables.states, tables.signals
    with store.connect() as conn:
        for row in conn.execute(select(sg.c.session_id, sg.c.at, sg.c.name)):
            el = element(row.session_id, row.at)
            if el:
                out.append(Touch(row.session_id, element=el, signal=row.name))
        for srow in conn.execute(select(st.c.session_id, st.c.at, st.c.top, st.c.intensity)):
            el = element(srow.session_id, srow.at)
            if el:
                out.append(
                    Touch(srow.session_id, element=el, state=srow.top, intensity=srow.intensity)
                )
    return out
