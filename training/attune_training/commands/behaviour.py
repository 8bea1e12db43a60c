"""CLI commands of the measure area: the abandonment model, reports and ROI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from attune.cli.groups import console, eval_app, fail, train_app


def _emit(obj: Any) -> None:
    from attune.measure.reports import finite

    sys.stdout.write(json.dumps(finite(obj), default=str) + "\n")


@train_app.command("abandonment")
def train_abandonment(
    data: Path = typer.Option(..., help="online_shoppers CSV with the Revenue column"),
    out: Path = typer.Option(..., help="artifact directory to write"),
    seed: int = typer.Option(13, help="seed of the dev split, folds and models"),
    folds: int = typer.Option(5, min=2, help="cross-validation folds"),
    small: bool = typer.Option(False, help="a tiny, fast model (for tests and smoke runs)"),
    split_out: Path | None = typer.Option(
        None,
        help="only write the seeded dev split (train_part.csv, dev.csv) into this directory",
    ),
) -> None:
    """Train the abandonment-risk model and export it to ONNX (writes meta.json with metrics)."""
    from attune_training import abandonment as tr

    if split_out is not None:
        try:
            paths = tr.write_split(data, split_out, seed)
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        console.print(f"dev split (seed {seed}) written to {paths[0]} and {paths[1]}")
        return
    total = 2 * folds + 2
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("fits", total=total)
            meta = tr.train(data, out, seed, folds, small, lambda: progress.advance(task))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    from attune.measure.cards import write_abandonment_card

    write_abandonment_card(out, meta, data, seed, folds, small)
    console.print(
        f"dev split: AUROC {meta['dev_split']['auroc']:.4f}, purchase F1 "
        f"{meta['dev_split']['f1']:.4f}; CV AUROC {meta['cv']['auroc']:.4f}, "
        f"F1 {meta['cv']['f1']:.4f}; written to {out}"
    )


@eval_app.command("abandonment")
def eval_abandonment(
    data: Path = typer.Option(..., help="CSV with the dataset's columns including Revenue"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Score the shipped abandonment model: n, auroc, f1 (purchase class), accuracy."""
    from attune_training.abandon_eval import evaluate
    from attune_training.overlap import warning

    try:
        result = evaluate(data)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if warning(result):
        console.print(f"[bold yellow]warning:[/] {warning(result)}", soft_wrap=True)
    if as_json:
        _emit(result)
    else:
        console.print(result)


# -- reports ----------------------------------------------------------------------------------
