"""``attune demo``: the embedded service, simulated shoppers in two arms, a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import create_engine, func, select

from attune.measure.summary import demo_readout, print_readout
from attune.sim.driver import DemoTally, drive
from attune.sim.server import child_server
from attune.storage import tables
from attune.storage.store import Store

EXPERIMENT = "demo-checkout"


def run_demo(sessions: int, seed: int, db: Path, quiet: bool = False) -> dict[str, Any]:
    console = Console(stderr=True, quiet=quiet)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db.resolve()}"
    console.print(f"Starting the embedded Attune service (SQLite file {db}) ...")
    with child_server(url, "--experiment", EXPERIMENT) as server:
        console.print(
            f"Service up at {server.base_url}; driving {sessions} simulated shoppers "
            "(half neutral journey, half adaptive playbook) ..."
        )
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("sessions", total=sessions)
            tally = drive(
                server.base_url,
                server.admin_key,
                sessions,
                seed,
                on_session=lambda: progress.advance(task),
            )
    summary = _summary(tally, url, db)
    store = Store(url)
    summary["experiment"] = demo_readout(store, EXPERIMENT)
    store.close()
    if not quiet:
        _print(console, summary)
    return summary


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
    console.print(
        f"\n[bold]{s['sessions']} sessions[/], {s['events']} events, {s['errors']} errors."
    )
    table = Table(title="Arms")
    for col in ("arm", "sessions", "dropout", "conversion", "troubled conv.", "adapted"):
        table.add_column(col)
    for arm, a in s["arms"].items():
        table.add_row(
            arm,
            str(a["sessions"]),
            f"{a['dropout_rate']:.1%}",
            f"{a['conversion_rate']:.1%}",
            f"{a['troubled_conversion_rate']:.1%}",
            str(a["adapted_sessions"]),
        )
    console.print(table)
    console.print("States seen (strongest per session):", s["states_seen"])
    console.print("Decisions by mode:", s["decisions_by_mode"])
    console.print("Signals by detector:", s["signals_by_name"])
    if "dropout_change" in s:
        console.print(f"Dropout, adaptive minus neutral: {s['dropout_change']:+.1%}")
    print_readout(console, s["experiment"])
    console.print(f"Database left for inspection: {s['database']}")
