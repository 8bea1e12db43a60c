"""Outreach commands: the plan of proactive contacts (JSON with --json)."""

from __future__ import annotations

import json

import typer

from attune.cli.groups import app, console

outreach_app = typer.Typer(help="Proactive outreach (channel, timing, tone).", no_args_is_help=True)
app.add_typer(outreach_app, name="outreach")


@outreach_app.command("plan")
def plan(
    database_url: str | None = typer.Option(None, "--db"),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    min_sessions: int = typer.Option(4, min=1, help="Sessions a customer needs for a churn risk."),
) -> None:
    """Which flagged customers get which contact, on which channel and when."""
    from attune.assembly import build
    from attune.config import load_settings

    settings = load_settings(**({"database_url": database_url} if database_url else {}))
    parts = build(settings, analyzers={}, announce=False)
    assert parts.outreach is not None
    out = parts.outreach.plan(min_sessions=min_sessions)
    if as_json:
        print(json.dumps(out, indent=2))
        return
    for item in out["outreach"]:
        when = "due now" if item["due"] else f"at {item['send_at']:.0f}"
        console.print(
            f"{item['outreach']}: {item['subject'][:12]}… {item['arm']} {item['channel']} {when}"
        )
    console.print(f"{len(out['outreach'])} planned; skipped: {out['skipped'] or 'none'}")
