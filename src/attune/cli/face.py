"""CLI commands of the face area: train, eval and bench the facial-expression analyzer."""

from __future__ import annotations

import json

import typer

from attune.cli.groups import app, bench_app, console, eval_app, fail, report_app, train_app  # noqa: F401


@bench_app.command("face")
def bench_face(
    seconds: float = typer.Option(3.0, min=0.2, help="Wall time per measurement."),
    baseline: bool = typer.Option(True, help="Also time the fer baseline, if installed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Frames per second at 640×480 with detection on one thread; classification-only speed."""
    from attune.models.runtime import ModelNotFound
    from attune.signals.face.bench import run

    try:
        result = run(seconds=seconds, with_baseline=baseline)
    except ModelNotFound as exc:
        fail(str(exc))
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))
