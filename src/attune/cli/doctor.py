"""``attune doctor``: what is configured, what is reachable, which models and playbooks are
there (and approved), and what to do next. It creates nothing: a missing database stays missing."""

from __future__ import annotations

import functools
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import typer

from attune.cli.groups import app, console


def _tcp(url: str, default_port: int) -> str:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return "ok"
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or type(exc).__name__})"


def _database(url: str) -> tuple[str, Any]:
    """("ok" | a problem, an open Store or None). A missing SQLite file is not created."""
    from attune.storage.problems import DatabaseProblem, sqlite_path
    from attune.storage.store import Store

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return f"no database file {path} yet (attune serve creates it)", None
    try:
        return "ok", Store(url)
    except DatabaseProblem as exc:
        return str(exc), None


def diagnose() -> dict[str, Any]:
    from attune.cli.core import _settings
    from attune.models.runtime import available
    from attune.policy.loader import load_dir
    from attune.storage.problems import shown

    settings = _settings()
    report: dict[str, Any] = {
        "configured": {
            "database": shown(settings.database_url),
            "transport": settings.transport,
            "session_cache": settings.session_cache,
            "modalities": settings.modalities,
            "sandbox": settings.sandbox,
            "production": settings.production,
            "playbook_approval_required": settings.require_playbook_approval,
            "pseudonym_key": "example key (set ATTUNE_PSEUDONYM_KEY)"
            if settings.pseudonym_key == "change-me-attune-dev-key"
            else "set",
            "log_format": settings.log_format,
        },
        "reachable": {},
        "models": [],
        "playbooks": [],
        "next": [],
    }
    reach, nxt = report["reachable"], report["next"]
    reach["database"], store = _database(settings.database_url)
    if settings.transport == "nats":
        reach["nats"] = _tcp(settings.nats_url, 4222)
    if settings.transport == "nats" or settings.session_cache == "redis":
        reach["redis"] = _tcp(settings.redis_url, 6379)
    for info in sorted(available().values(), key=lambda m: m.name):
        report["models"].append(
            {
                "name": info.name,
                "version": info.version,
                "licence": info.licence,
                "commercial_use": info.commercial_use,
                "enabled": info.enabled,
            }
        )
    governance = None
    if store is not None:
        from attune.policy.approval import Governance

        governance = Governance(store)
    for lp in load_dir(settings.playbook_dir):
        approved = bool(governance and governance.is_active(lp))
        status = governance.status(lp.playbook.key) if governance else None
        report["playbooks"].append(
            {
                "key": lp.playbook.key,
                "approved": approved,
                "submitted": status is not None,
                "runs": approved or not settings.require_playbook_approval,
            }
        )
    keys = None
    if store is not None:
        from attune.api.keys import KeyRing

        keys = KeyRing(store).any()
        store.close()
    # what to do next, most important first
    if reach["database"] != "ok":
        nxt.append(f"database: {reach['database']}")
    for name in ("nats", "redis"):
        if name in reach and reach[name] != "ok":
            nxt.append(f"start {name.upper() if name == 'nats' else 'Redis'}: {reach[name]}")
    if keys is False or store is None:
        nxt.append("attune serve creates an admin and an ingest key on its first start")
    if not any(p["runs"] for p in report["playbooks"]):
        nxt.append(
            "no playbook runs yet: attune governance submit PLAYBOOK.yaml --actor AUTHOR, then "
            "attune keys create REVIEWER --scope approver, then "
            "attune governance approve PLAYBOOK.yaml --actor REVIEWER, then restart "
            "(or try it first: attune serve --sandbox)"
        )
    if settings.sandbox:
        nxt.append("sandbox mode is on: not for real customers")
    if settings.pseudonym_key == "change-me-attune-dev-key":
        nxt.append("before real traffic: set a secret ATTUNE_PSEUDONYM_KEY")
    off = [m["name"] for m in report["models"] if not m["enabled"]]
    if off:
        nxt.append(
            f"research-licensed models off: {', '.join(off)} (ATTUNE_ENABLE_MODELS=NAME "
            "if your use is covered)"
        )
    # a database not made yet is a next step, not a failure
    report["ok"] = all(v == "ok" or v.startswith("no database file") for v in reach.values())
    return report


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """What is configured and reachable, which models and playbooks are loaded and approved,
    and what to do next. Exit 1 when something configured cannot be reached."""
    report = diagnose()
    if as_json:
        print(json.dumps(report))
    else:
        out = functools.partial(console.print, soft_wrap=True)
        out("[bold]Configured[/]")
        for key, value in report["configured"].items():
            out(f"  {key:28s} {value}", highlight=False)
        out("[bold]Reachable[/]")
        for key, value in report["reachable"].items():
            mark = "[green]ok[/]" if value == "ok" else f"[red]{value}[/]"
            out(f"  {key:28s} {mark}", highlight=False)
        out("[bold]Models[/]")
        for m in report["models"]:
            state = "enabled" if m["enabled"] else "off (opt-in)"
            out(f"  {m['name']:28s} {m['version']}  {m['licence']}  {state}", highlight=False)
        out("[bold]Playbooks[/]")
        for p in report["playbooks"]:
            state = "approved" if p["approved"] else "submitted" if p["submitted"] else "new"
            runs = "runs" if p["runs"] else "does not run"
            out(f"  {p['key']:28s} {state}, {runs}", highlight=False)
        out("[bold]Next[/]")
        for step in report["next"] or ["nothing: ready"]:
            out(f"  - {step}", highlight=False)
    if not report["ok"]:
        raise typer.Exit(1)
