"""CLI commands of the text area: train / eval / bench the text models, analyze conversations."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from attune.cli.groups import app, bench_app, console, fail

DataOpt = Annotated[Path, typer.Option("--data", help="CSV with columns text,labels")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def emit_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        console.print_json(json.dumps(result))


@bench_app.command("text")
def bench_text(
    as_json: JsonOpt = False,
    n: Annotated[int, typer.Option(help="messages for the latency run")] = 300,
    batch_n: Annotated[int, typer.Option(help="messages for the throughput run")] = 2000,
    repeats: Annotated[int, typer.Option(help="runs; the figures are their medians")] = 3,
    pack: Annotated[str, typer.Option(help="the intent pack read with each message")] = (
        "customer_service"
    ),
    messages: Annotated[
        Path | None,
        typer.Option(help="CSV with a text column: time --n of these messages instead"),
    ] = None,
) -> None:
    """Latency of one message on one thread, batched throughput on 2 threads, memory."""
    from attune.signals.text.bench import read_messages, run_bench

    if repeats < 1:
        fail("--repeats must be at least 1")
    try:
        texts = read_messages(str(messages)) if messages is not None else None
        if texts is not None and not texts:
            fail(f"{messages}: no texts in a 'text' column")
        result = run_bench(n, batch_n, pack=pack, repeats=repeats, texts=texts)
    except FileNotFoundError as exc:
        fail(str(exc))
    emit_result(result, as_json)


@app.command("analyze")
def analyze(
    conversations: Annotated[Path, typer.Argument(help="CSV: conversation_id,turn,speaker,text")],
    out: Annotated[Path, typer.Option(help="output folder for report.json and report.html")],
    pack: Annotated[str, typer.Option(help="intent pack")] = "customer_service",
    limit: Annotated[int, typer.Option(help="analyze at most this many conversations")] = 0,
) -> None:
    """Batch analysis of historical conversations: emotional arcs, escalations, intents."""
    from attune.signals.text.conversations import ConversationError, analyze_file

    try:
        summary = analyze_file(conversations, out, pack=pack, limit=limit, progress=progress_bar())
    except ConversationError as exc:
        fail(str(exc))
    console.print(
        f"[green]wrote[/] {out / 'report.html'} and report.json: "
        f"{summary['conversations']} conversations, {summary['customer_turns']} customer turns"
    )
