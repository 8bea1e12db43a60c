"""CLI commands of the voice area: ``train voice``, ``eval voice``, ``bench voice``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from attune.cli.groups import app, bench_app, console, eval_app, fail, report_app, train_app  # noqa: F401


def progress_bars() -> tuple[Progress, Callable[[str, int], Callable[[], None]]]:
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )

    def make(name: str, total: int) -> Callable[[], None]:
        task = bar.add_task(name, total=total)
        return lambda: bar.advance(task)

    return bar, make


@bench_app.command("voice")
def bench_voice(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    seconds: Annotated[float, typer.Option(min=5.0, help="synthetic call length")] = 60.0,
    audio: Annotated[Path | None, typer.Option(help="bench on this recording instead")] = None,
) -> None:
    """Real-time factor (one core), latency per window and memory of the voice analyzer."""
    from attune.models.runtime import ModelNotFound
    from attune.signals.voice.audio_io import AudioDecodeError, decode_audio
    from attune.signals.voice.bench import run

    try:
        x = decode_audio(audio.read_bytes())[0].mean(axis=0) if audio else None
        result = run(seconds, x)
    except (AudioDecodeError, ModelNotFound, OSError) as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    for key, value in result.items():
        console.print(f"{key}: {value}")
