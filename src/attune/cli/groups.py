"""The top-level Typer app and its command groups, shared by every area module."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="attune",
    help="Attune: notice how customers feel, adapt the journey, measure whether it helps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
train_app = typer.Typer(
    help="Train a model from data (reproducible, seeded).", no_args_is_help=True
)
eval_app = typer.Typer(help="Score a model on a labelled file (JSON out).", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (JSON out with --json).", no_args_is_help=True)
report_app = typer.Typer(help="Measurement reports (JSON and HTML).", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
app.add_typer(report_app, name="report")

console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """A CLI error: one clear line on stderr, no traceback."""
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
