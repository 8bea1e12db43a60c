"""Apply a hard stop to the running engine: route everyone to control, record, audit, announce.

``enforce_hard_stops`` is what the engine (or a periodic task, or the API) calls: it reads the
current data, runs ``check_hard_stops`` and, on a breach, sets ``engine.experiment.stopped``
(every later assignment returns the neutral journey), marks the experiment stopped in the
registry, writes a ``decision`` audit entry of kind ``experiment_hard_stop`` and fires the
``experiment.hard_stop`` webhook. Calling it again after a stop changes nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from attune.measure import load, registry
from attune.measure.defaults import checkout_definition
from attune.measure.experiments import CONTROL
from attune.measure.hardstops import check_hard_stops
from attune.storage.store import Store

log = logging.getLogger("attune.measure")


def enforce_hard_stops(
    engine: Any, store: Store, experiment_id: str, webhooks: Any | None = None
) -> dict[str, Any]:
    experiment = getattr(engine, "experiment", None)
    if experiment is not None and experiment.id == experiment_id and experiment.stopped:
        return {"experiment_id": experiment_id, "stop": True, "already_stopped": True}
    d = registry.definition(store, experiment_id) or checkout_definition(experiment_id)
    if hasattr(engine, "flush"):
        engine.flush()
    records, _ = load.experiment_sessions(store, experiment_id)
    decision = check_hard_stops(d, load.units(records))
    out = decision.to_dict()
    if not decision.stop:
        return out
    reason = "; ".join(decision.reasons)
    if experiment is not None and experiment.id == experiment_id:
        experiment.stopped = True
    if registry.get_row(store, experiment_id) is None:
        registry.register(store, d)
    registry.stop(store, experiment_id, reason)
    payload = {
        "kind": "experiment_hard_stop",
        "experiment_id": experiment_id,
        "reasons": decision.reasons,
        "routed_to": CONTROL,
        "at": time.time(),
    }
    sink = getattr(engine, "audit_sink", None)
    if sink is not None:
        sink("experiment_hard_stop", None, payload)
        engine.flush()  # the audit entry is written now, not with the next batch
    if webhooks is not None:
        try:
            webhooks.fire("experiment.hard_stop", payload)
        except RuntimeError:  # no running event loop here: the caller announces it
            log.warning("hard stop of %s: webhook left to the caller", experiment_id)
    log.warning("hard stop of experiment %s: %s", experiment_id, reason)
    out["applied"] = True
    out["announcement"] = payload
    return out


def attach(engine: Any, store: Store) -> None:
    """At start-up: an experiment the registry records as stopped stays stopped (everyone on
    the neutral journey) across restarts. An experiment not registered runs with the checkout
    definition's guardrails until one is registered (``POST /v1/experiments``)."""
    experiment = engine.experiment
    row = registry.get_row(store, experiment.id)
    if row is not None and row["status"] == "stopped":
        experiment.stopped = True
        log.warning("experiment %s is stopped: %s", experiment.id, row.get("stop_reason"))


async def watch_hard_stops(
    state: Any, experiment_id: str, every_s: float = 60.0, rounds: int | None = None
) -> None:
    """Check the guardrails every ``every_s`` seconds until the experiment stops (or for
    ``rounds`` checks). ``state`` is the app state (engine, store, webhooks); start it in the
    app's lifespan: ``asyncio.create_task(watch_hard_stops(app.state, experiment_id))``."""
    import asyncio

    from starlette.concurrency import run_in_threadpool

    done = 0
    while rounds is None or done < rounds:
        done += 1
        try:
            result = await run_in_threadpool(
                enforce_hard_stops, state.engine, state.store, experiment_id, None
            )
        except Exception:  # a failed check must not kill the watcher; the next one retries
            log.exception("hard-stop check of %s failed", experiment_id)
            result = {}
        if result.get("applied") and getattr(state, "webhooks", None) is not None:
            state.webhooks.fire("experiment.hard_stop", result["announcement"])
        if result.get("stop"):
            return
        await asyncio.sleep(every_s)
