"""Core commands: serve, demo, keys, and the engine and HTTP benchmarks."""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from attune.cli.groups import app, bench_app, console, fail

if TYPE_CHECKING:
    from attune.config import Settings

keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on (0: any free one)."),
    database_url: str | None = typer.Option(
        None, "--db", help="Database URL or SQLite file (default: settings)."
    ),
    experiment: str | None = typer.Option(
        None, help="Run an experiment with this id (neutral journey vs adaptive playbook)."
    ),
    treatment_share: float = typer.Option(0.5, min=0.0, max=1.0, help="Share in the adaptive arm."),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Try it out: the example playbooks run without approval and the dashboard says "
        "SANDBOX. Refused with ATTUNE_PRODUCTION=true.",
    ),
    log_format: str | None = typer.Option(
        None,
        "--log-format",
        help="Access and service logs as 'text' or 'json' (default: settings).",
    ),
) -> None:
    """Run the Attune service (embedded default: one process, SQLite file)."""
    import uvicorn

    from attune.api.app import create_app
    from attune.api.logs import configure_logging
    from attune.engine import tune_gc
    from attune.policy.assignment import Experiment

    overrides: dict[str, object] = {"database_url": database_url} if database_url else {}
    if sandbox:
        overrides["sandbox"] = True
    if log_format:
        overrides["log_format"] = log_format
    settings = _settings(**overrides)
    _require_real_pseudonym_key(settings.pseudonym_key)
    sock = _bind(host, port)  # before anything is printed: a busy port is one clear line
    exp = Experiment(experiment, treatment_share) if experiment else None
    application = create_app(settings, experiment=exp)
    keys = application.state.keys
    if not keys.any():
        admin = keys.create("first-admin", ["admin"])
        ingest = keys.create("first-ingest", ["ingest"])
        console.print("[bold]First start: API keys created (shown once, stored hashed):[/]")
        console.print(f"  admin  key: {admin}\n  ingest key: {ingest}")
    if settings.sandbox:
        console.print(
            "[bold yellow]SANDBOX MODE:[/] the example playbooks run without approval. "
            "Not for real customers (ATTUNE_PRODUCTION=true refuses it)."
        )
    elif not application.state.engine.policy.playbooks:
        console.print(
            "[yellow]No approved playbook: every journey stays standard.[/] A playbook runs "
            "once someone other than its author approved it:\n"
            "  attune governance submit PLAYBOOK.yaml --actor AUTHOR\n"
            "  attune keys create REVIEWER --scope approver   (once per reviewer)\n"
            "  attune governance approve PLAYBOOK.yaml --actor REVIEWER\n"
            "(the example: src/attune/policy/playbooks/shop.yaml; restart after approving)\n"
            "To try adaptation first: attune serve --sandbox (example playbooks active, "
            "SANDBOX banner)"
        )
    _announce_models(application.state.engine)
    console.print(f"Attune listening on http://{host}:{sock.getsockname()[1]}  (docs: /docs)")
    tune_gc()
    configure_logging(settings.log_format)  # from here on: access logs, service logs
    config = uvicorn.Config(application, log_level="warning", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[sock])


def _settings(**overrides: object) -> Settings:
    """Settings, or one line naming the setting that is wrong."""
    from pydantic import ValidationError

    from attune.config import load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        fail(f"setting {where}: {first['msg'].removeprefix('Value error, ')}")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"port {port} on {host} is already in use: stop what listens there "
                f"(ss -ltnp 'sport = :{port}') or choose another with --port"
            )
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _announce_models(engine: Any) -> None:
    """Which models this process loaded, under which licence; which stayed off, and why."""
    from attune.models.runtime import available

    for info in available().values():
        if info.enabled:
            console.print(
                f"model {info.name} {info.version}: {info.licence}; data: "
                + "; ".join(info.data_licences)
            )
        else:
            console.print(
                f"[yellow]model {info.name} off[/]: its data does not allow commercial use "
                f"({'; '.join(info.data_licences)}); enable by name: "
                f"ATTUNE_ENABLE_MODELS={info.name}"
            )
    for modality, why in engine.unavailable.items():
        console.print(f"[yellow]{modality} analyzer not running[/]: {why}")


@app.command()
def demo(
    sessions: int = typer.Option(2000, min=1, help="Simulated customers in the experiment."),
    seed: int = typer.Option(7, help="Random seed of the simulation."),
    scenario: str = typer.Option(
        "helpful",
        help="What adapting is ASSUMED to do to the simulated shoppers: helpful, none or harmful.",
    ),
    effect: float = typer.Option(
        0.5,
        min=0.0,
        max=1.0,
        help="Assumed effect size: how much a mode eases (helpful) or raises (harmful) trouble.",
    ),
    misfit_risk: float = typer.Option(
        0.04, min=0.0, max=1.0, help="Assumed extra dropout risk of a step whose mode misfits."
    ),
    recovery: float = typer.Option(
        0.1, min=0.0, max=1.0, help="Assumed recovery per step on its own, in both arms."
    ),
    returning: float = typer.Option(
        0.5, min=0.0, max=1.0, help="Share of customers with earlier visits (CUPED pre-period)."
    ),
    db: Path = typer.Option(
        Path("attune-demo.db"), help="SQLite file to leave for inspection (replaced if it exists)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
) -> None:
    """Start the embedded service and drive simulated shoppers through its HTTP API in two
    arms (neutral journey vs adaptive playbook); print the assumptions, then what happened.
    The effect of adapting is an assumption of the simulation (--scenario), not a finding."""
    from attune.measure.reports import finite
    from attune.sim.assumptions import SCENARIOS, Assumptions
    from attune.sim.demo import run_demo

    if scenario not in SCENARIOS:
        fail(f"--scenario must be one of {', '.join(SCENARIOS)}, not {scenario!r}")
    a = Assumptions(
        scenario=scenario,  # type: ignore[arg-type]
        effect=effect,
        misfit_risk=misfit_risk,
        recovery=recovery,
        returning_share=returning,
    )
    summary = run_demo(sessions=sessions, seed=seed, db=db, quiet=as_json, assumptions=a)
    if as_json:
        print(json.dumps(finite(summary)))


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="Whose key: the person or service (audited by it)."),
    scopes: list[str] = typer.Option(
        ["ingest"],
        "--scope",
        help="ingest (public, web page), server, read, analyst, privacy, author, approver, agent "
        "or admin (repeatable).",
    ),
    database_url: str | None = typer.Option(None, "--db"),
) -> None:
    """Create an API key and print it once."""
    from attune.api.keys import KeyRing
    from attune.config import load_settings
    from attune.storage.store import Store

    settings = load_settings(**({"database_url": database_url} if database_url else {}))
    try:
        raw = KeyRing(Store(settings.database_url)).create(name, scopes)
    except ValueError as exc:
        fail(str(exc))
    print(raw)


@keys_app.command("list")
def keys_list(database_url: str | None = typer.Option(None, "--db")) -> None:
    """List keys with their scopes, creation, last use and revocation (never the keys)."""
    from attune.api.keys import KeyRing
    from attune.config import load_settings
    from attune.storage.store import Store

    settings = load_settings(**({"database_url": database_url} if database_url else {}))
    print(json.dumps(KeyRing(Store(settings.database_url)).list(), indent=2))


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key's id (see 'attune keys list')."),
    database_url: str | None = typer.Option(None, "--db"),
) -> None:
    """Revoke a key: every running process refuses it within a second."""
    from attune.api.keys import KeyRing
    from attune.config import load_settings
    from attune.storage.store import Store

    settings = load_settings(**({"database_url": database_url} if database_url else {}))
    if not KeyRing(Store(settings.database_url)).revoke(key_id):
        fail(f"no active key with id {key_id!r}; see 'attune keys list'")
    print(f"revoked {key_id}")


@bench_app.command("engine")
def bench_engine(
    events: int = typer.Option(100_000, min=1000, help="Behaviour events per run."),
    repeat: int = typer.Option(3, min=1, help="Runs; medians are reported."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """In-process throughput and event-to-decision latency vs the orjson parse floor."""
    from attune.bench.engine_bench import run

    result = run(events, repeat)
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@bench_app.command("http")
def bench_http(
    events: int = typer.Option(100_000, min=1000, help="Behaviour events per run."),
    batch: int = typer.Option(500, min=1, max=5000, help="Events per /v1/batch request."),
    repeat: int = typer.Option(3, min=1, help="Runs; medians are reported."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Batch ingest over loopback against uvicorn (server in its own process)."""
    from attune.bench.http_bench import run

    result = run(events, batch, repeat)
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@app.command()
def worker(
    partitions: str = typer.Option("all", help="Partitions to consume: 'all', '0-3' or '0,2,5'."),
    database_url: str | None = typer.Option(None, "--db", help="Database URL (PostgreSQL)."),
) -> None:
    """Scale-out worker: consume the NATS JetStream event stream, keep hot session state in
    Redis, write to the database, publish decisions."""
    import asyncio

    from attune.engine import tune_gc
    from attune.transport.worker import Worker

    settings = _settings(**({"database_url": database_url} if database_url else {}))
    _require_real_pseudonym_key(settings.pseudonym_key)
    if settings.transport != "nats":
        fail(
            f"workers consume the NATS JetStream stream, but the transport is "
            f"{settings.transport!r}: set ATTUNE_TRANSPORT=nats (and ATTUNE_NATS_URL) for "
            "attune serve and the workers alike; with the embedded default, attune serve "
            "processes events itself and needs no worker"
        )
    if settings.database_url.startswith("sqlite"):
        console.print(
            "[yellow]warning:[/] workers and the API share one database; use PostgreSQL "
            "(--db postgresql://...) rather than a SQLite file for more than one process"
        )
    try:
        chosen = _parse_partitions(partitions, settings.partitions)
    except ValueError as exc:
        fail(str(exc))
    console.print(
        f"worker: partitions {chosen} of {settings.partitions}, stream at {settings.nats_url}"
    )
    consumer = Worker(settings, chosen)
    tune_gc()
    asyncio.run(consumer.run())


def _require_real_pseudonym_key(key: str) -> None:
    """serve and worker refuse the placeholder key (the demo and tests start their own)."""
    import sys

    from attune.privacy.pseudonym import key_problem

    problem = key_problem(key)
    if problem:
        sys.stderr.write(f"error: {problem}\n")  # one line, never wrapped
        raise typer.Exit(2)


def _parse_partitions(spec: str, total: int) -> list[int]:
    if spec == "all":
        return list(range(total))
    chosen: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        if not lo.strip().isdigit() or (hi and not hi.strip().isdigit()):
            raise ValueError(f"bad partition list {spec!r}: use 'all', '0-3' or '0,2,5'")
        chosen.update(range(int(lo), int(hi or lo) + 1))
    bad = sorted(p for p in chosen if p >= total)
    if bad:
        raise ValueError(f"partitions {bad} do not exist (there are {total})")
    return sorted(chosen)
