"""The top-level Typer app and its command groups, shared by every area module."""

from __future__ import annotations

import errno
import os
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup


class OneLineErrors(TyperGroup):
    """Whatever a command raises reaches the person as one line with what to do, never a
    traceback (ATTUNE_DEBUG=1 shows it)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader went away (| head): nothing to say
            raise typer.Exit(141) from None
        except Exception as exc:
            # usage errors and exits are the command line's own (typer ships its own click)
            if type(exc).__module__.startswith(("typer", "click")) or os.environ.get(
                "ATTUNE_DEBUG"
            ):
                raise
            console.print(
                f"[bold red]error:[/] {escape(explain(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None


def explain(exc: BaseException) -> str:
    from attune.storage.problems import DatabaseProblem

    if isinstance(exc, DatabaseProblem):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename or exc}"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename} is a folder; name a file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "the port is already in use: stop what listens there or choose another --port"
    if isinstance(exc, ModuleNotFoundError):
        return f"{exc.name} is not installed: pip install -r requirements.txt"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first} (ATTUNE_DEBUG=1 shows where)"


app = typer.Typer(
    cls=OneLineErrors,
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
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
