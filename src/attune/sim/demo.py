"""``attune demo``: the embedded service, simulated shoppers in two arms, a summary.

Everything the result depends on is an assumption of the simulation (``Assumptions``); the
summary starts with them and says that the effect was simulated. Returning customers' earlier
visits run first (the pre-period, neutral journey); then the experiment is registered and
started through the API, and the shoppers arrive while the service checks its guardrails.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import create_engine, func, select

from attune.measure.defaults import checkout_definition
from attune.measure.experiments import ExperimentDefinition
from attune.measure.summary import demo_readout, print_readout
from attune.sim.assumptions import Assumptions
from attune.sim.driver import DemoTally, HardStopSeen, drive
from attune.sim.server import RunningServer, child_server
from attune.sim.shoppers import Shopper, sessions_for
from attune.storage import tables
from attune.storage.store import Store

EXPERIMENT = "demo-checkout"
PRE_PERIOD = "demo-pre-period"  # earlier visits: everyone on the neutral journey
T0 = 1_767_000_000.0  # simulated start of the experiment


def run_demo(
    sessions: int,
    seed: int,
    db: Path,
    quiet: bool = False,
    assumptions: Assumptions | None = None,
    check_every: int = 100,
    definition: ExperimentDefinition | None = None,
) -> dict[str, Any]:
    """Run the simulation; ``definition`` replaces the checkout experiment's (tests use
    smaller guardrail minimums so that a few hundred sessions can trip them)."""
    a = assumptions or Assumptions()
    console = Console(stderr=True, quiet=quiet)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db.resolve()}"
    console.print(f"[bold]Assumptions[/] (simulated shoppers): {a.statement}")
    history, current = sessions_for(sessions, seed, T0, a)
    # One pseudonym key for both services (a customer's earlier visits and their experiment
    # session must name the same subject), derived from the seed so that a run repeats: arms
    # are assigned on pseudonyms. Simulated shoppers only; a real service has its own key.
    derived = hashlib.sha256(f"attune-demo:{seed}".encode()).hexdigest()
    env = {"ATTUNE_PSEUDONYM_KEY": os.environ.get("ATTUNE_PSEUDONYM_KEY") or derived}
    console.print(f"Starting the embedded Attune service (SQLite file {db}) ...")
    if history:
        # The pre-period: returning customers' earlier visits, before the experiment exists,
        # all on the neutral journey (treatment share 0). CUPED reads them as covariates.
        pre = ("--experiment", PRE_PERIOD, "--treatment-share", "0")
        with child_server(url, *pre, env=env) as server:
            _drive(console, server, history, "earlier visits (pre-period)")
    with child_server(url, "--experiment", EXPERIMENT, env=env) as server:
        _register(server, definition or checkout_definition(EXPERIMENT))
        tally, stop = _drive(
            console, server, current, "sessions (half neutral, half adaptive)", check_every
        )
    summary: dict[str, Any] = {"assumptions": a.to_dict()}
    summary.update(_summary(tally, url, db))
    summary["pre_period_sessions"] = len(history)
    store = Store(url)
    summary["experiment"] = demo_readout(store, EXPERIMENT)
    store.close()
    summary["experiment"]["hard_stop"] = _hard_stop(summary["experiment"], stop, tally)
    _label_simulated(summary["experiment"], a)
    if not quiet:
        _print(console, summary)
    return summary


def _label_simulated(readout: dict[str, Any], a: Assumptions) -> None:
    """The verdict and the ROI are about simulated shoppers whose response was assumed."""
    tag = f"Simulated shoppers (scenario '{a.scenario}', effect assumed): "
    if readout.get("verdict"):
        readout["verdict"] = tag + readout["verdict"]
    roi = readout.get("roi") or {}
    if "summary" in roi:
        roi["summary"] = tag + roi["summary"]


def _register(server: RunningServer, d: ExperimentDefinition) -> None:
    """The definition is fixed before the first shopper arrives, as for a real experiment."""
    auth = {"Authorization": f"Bearer {server.admin_key}"}
    body = {**d.to_dict(), "id": EXPERIMENT}
    for path, payload in (("/v1/experiments", body), (f"/v1/experiments/{EXPERIMENT}/start", None)):
        r = httpx.post(server.base_url + path, json=payload, headers=auth, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"registering the demo experiment failed: {r.text[:300]}")


def _drive(
    console: Console,
    server: RunningServer,
    shoppers: list[Shopper],
    label: str,
    check_every: int | None = None,
) -> tuple[DemoTally, HardStopSeen | None]:
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=len(shoppers))
        return drive(
            server.base_url,
            server.admin_key,
            shoppers,
            on_session=lambda: progress.advance(task),
            experiment=EXPERIMENT if check_every else None,
            check_every=check_every or 100,
        )


def _hard_stop(
    readout: dict[str, Any], seen: HardStopSeen | None, tally: DemoTally
) -> dict[str, Any] | None:
    """Null when nothing stopped; else what stopped, when, and what happened after."""
    stop = readout.get("registry_stop")
    if stop is None and seen is None:
        return None
    out: dict[str, Any] = {
        "stopped": "the adaptive arm",
        "reasons": (seen.reasons if seen else None) or [(stop or {}).get("reason", "")],
        "stopped_at": stop.get("stopped_at") if stop else None,
        "reverted_to": "the neutral journey (control) for every session after the stop",
        "sessions_after_stop": tally.after_stop.sessions,
        "adapted_sessions_after_stop": tally.after_stop.adapted_sessions,
        "arms_after_stop": dict(tally.after_stop.arms),
    }
    if seen:
        out["after_sessions"] = seen.after_sessions
        out["simulated_time"] = seen.event_time
    return out


def _summary(tally: DemoTally, url: str, db: Path) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        signals: dict[str, int] = dict(
            conn.execute(
                select(tables.signals.c.name, func.count()).group_by(tables.signals.c.name)
            ).all()
        )
        modes: dict[str, int] = dict(
            conn.execute(
                select(tables.decisions.c.mode, func.count()).group_by(tables.decisions.c.mode)
            ).all()
        )
    engine.dispose()
    arms = {arm: t.to_dict() for arm, t in sorted(tally.arms.items())}
    out: dict[str, Any] = {
        "sessions": sum(t.sessions for t in tally.arms.values()),
        "events": tally.events,
        "requests": tally.requests,
        "errors": tally.errors,
        "throttled": tally.throttled,
        "hidden_states": dict(tally.latent),
        "states_seen": dict(tally.states_seen),
        "sessions_by_mode": dict(tally.decisions_by_mode),
        "decisions_by_mode": modes,
        "signals_by_name": signals,
        "arms": arms,
        "database": str(db),
    }
    if "control" in arms and "adaptive" in arms:
        c, a = arms["control"], arms["adaptive"]
        out["dropout_change"] = round(a["dropout_rate"] - c["dropout_rate"], 4)
    return out


def _print(console: Console, s: dict[str, Any]) -> None:
    a = s["assumptions"]
    console.print(f"\n[bold yellow]{a['statement']}[/]")
    console.print(
        f"Assumed: effect {a['effect']}, misfit risk {a['misfit_risk']}, recovery per step "
        f"{a['recovery']}, base dropout {a['base_dropout']} + {a['trouble_dropout']} x "
        f"intensity per step, returning customers {a['returning_share']:.0%}."
    )
    console.print(
        f"[bold]{s['sessions']} sessions[/] in the experiment (+{s['pre_period_sessions']} "
        f"earlier visits), {s['events']} events, {s['errors']} errors."
    )
    table = Table(title="Arms (until a hard stop)")
    for col in ("arm", "sessions", "dropout", "conversion", "troubled conv.", "adapted"):
        table.add_column(col)
    for arm, t in s["arms"].items():
        table.add_row(
            arm,
            str(t["sessions"]),
            f"{t['dropout_rate']:.1%}",
            f"{t['conversion_rate']:.1%}",
            f"{t['troubled_conversion_rate']:.1%}",
            str(t["adapted_sessions"]),
        )
    console.print(table)
    console.print("States seen (strongest per session):", s["states_seen"])
    console.print("Decisions by mode:", s["decisions_by_mode"])
    console.print("Signals by detector:", s["signals_by_name"])
    if "dropout_change" in s:
        console.print(f"Dropout, adaptive minus neutral: {s['dropout_change']:+.1%}")
    print_readout(console, s["experiment"])
    stop = s["experiment"].get("hard_stop")
    if stop:
        console.print(
            f"[bold red]Hard stop[/] after {stop.get('after_sessions', '?')} sessions: "
            + "; ".join(stop["reasons"])
            + f". Then {stop['sessions_after_stop']} sessions, "
            f"{stop['adapted_sessions_after_stop']} of them adapted: {stop['reverted_to']}."
        )
    console.print(f"[yellow]{a['statement']}[/]")
    console.print(f"Database left for inspection: {s['database']}")
