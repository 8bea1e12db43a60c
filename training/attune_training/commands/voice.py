"""CLI commands of the voice area: ``train voice``, ``eval voice``, ``bench voice``."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from attune.cli.groups import app, bench_app, console, eval_app, fail, report_app, train_app  # noqa: F401
from attune.cli.voice import progress_bars as _progress


@train_app.command("voice")
def train_voice(
    data: Annotated[list[Path], typer.Option(help="CSV path,emotion[,speaker][,gender] (repeat)")],
    root: Annotated[
        Path | None,
        typer.Option(help="audio paths are relative to this folder (default: each CSV's folder)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="artifact folder to write")] = Path(
        "attune-models/voice-emotion"
    ),
    cv: Annotated[bool, typer.Option(help="speaker-folds cross-validation report")] = True,
    augment: Annotated[
        bool,
        typer.Option(help="augmentation: phone, noise, speed, reverb, pitch, tempo, phone+noise"),
    ] = True,
    variants: Annotated[
        str | None,
        typer.Option(
            help="training variants of each clip, clean first (default: all eight); the shipped "
            "model used clean,phone,noise,speed"
        ),
    ] = None,
    folds: Annotated[int, typer.Option(min=2)] = 6,
    cache: Annotated[Path | None, typer.Option(help="reuse/save derived features (.npz)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="feature extraction processes")] = 1,
    classes: Annotated[str, typer.Option(help="comma-separated emotions to learn")] = (
        "anger,disgust,fear,happy,neutral,sad"
    ),
    data_licence: Annotated[
        list[str] | None,
        typer.Option(help="licence/terms of your training data, as you declare them (repeat)"),
    ] = None,
    commercial_use: Annotated[
        bool, typer.Option("--commercial-use", help="declare that the data allows commercial use")
    ] = False,
    population: Annotated[
        str, typer.Option(help="population head: svm | ensemble (chosen by inner folds)")
    ] = "svm",
) -> None:
    """Train the speech-emotion model (both heads) from labelled audio; writes ONNX + card."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from attune_training.own_data import declaration
    from attune_training.voice_card import model_card
    from attune_training.voice_data import AUGMENTS, DataError
    from attune_training.voice_run import sources_from, train
    from attune_training.voice_train import AUGMENTED, TrainConfig

    try:
        declared = declaration(data_licence or [], commercial_use)
    except ValueError as exc:
        fail(str(exc))

    if variants and not augment:
        fail("--no-augment trains on clean clips only: leave out --variants, or --no-augment")
    chosen = tuple(v.strip() for v in variants.split(",") if v.strip()) if variants else AUGMENTED
    unknown = sorted(set(chosen) - set(AUGMENTS))
    if unknown or chosen[:1] != ("clean",):
        fail(
            f"--variants must start with clean and name only {', '.join(AUGMENTS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    cfg = TrainConfig(
        classes=tuple(c.strip() for c in classes.split(",") if c.strip()),
        variants=chosen if augment else ("clean",),
        folds=folds,
        workers=workers,
        population=population,
    )
    if population not in ("ensemble", "svm"):
        fail(f"--population must be ensemble or svm, got {population!r}")
    command = "attune " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    bar, make = _progress()
    try:
        with bar:
            report = train(
                sources_from(data, root),
                out,
                cfg,
                make,
                cv=cv,
                cache=cache,
                command=command,
                card=model_card,
                declared=declared,
            )
    except (DataError, ValueError) as exc:
        fail(str(exc))
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    pop = report.get("cv", {}).get("population", {}).get("clean", {})
    console.print(f"wrote {out} (speaker-folds UAR, population head: {pop.get('uar', 'n/a')})")
    console.print(f"use it with: ATTUNE_MODELS_DIR={out.parent}")


@eval_app.command("voice")
def eval_voice(
    data: Annotated[Path, typer.Option(help="CSV with columns path,emotion")],
    root: Annotated[
        Path | None,
        typer.Option(
            help="folder the paths are relative to (default: the CSV's folder, then the current)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    model: Annotated[str, typer.Option(help="artifact name")] = "voice-emotion",
    channel: Annotated[str, typer.Option(help="clean | phone (8 kHz telephone band)")] = "clean",
    snr: Annotated[float | None, typer.Option(help="add pink noise at this SNR (dB)")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    scoring: Annotated[
        str,
        typer.Option(
            help="calls: each speaker's clips as one call, read against the caller's running "
            "baseline as live; clips: each clip alone; auto: calls when every row names a speaker"
        ),
    ] = "auto",
    order: Annotated[
        str, typer.Option(help="clips of a call: shuffled (seeded) or in the file's order")
    ] = "shuffled",
) -> None:
    """Score the voice model on labelled clips (speakers unseen in training)."""
    from attune.models.runtime import ModelNotFound
    from attune_training.voice_data import DataError
    from attune_training.voice_eval import evaluate

    bar, make = _progress()
    try:
        with bar:
            result = evaluate(
                data,
                root,
                model,
                channel,
                snr,
                limit,
                progress=lambda n: make("scoring", n),
                warn=lambda m: console.print(m),
                scoring=scoring,
                order=order,
            )
    except (DataError, ModelNotFound, ValueError) as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    console.print(f"read as {result['scoring']}: {result['normalisation']}")
    console.print(
        f"n={result['n']} skipped={result['n_skipped']} failed={result['n_failed']} "
        f"accuracy={result['accuracy']:.3f} UAR={result['uar']:.3f} "
        f"macro-F1={result['macro_f1']:.3f}"
    )
    for label, rec in result["per_class_recall"].items():
        console.print(f"  {label:8s} recall {rec:.3f}")
    if "per_clip" in result:
        console.print(f"each clip alone (population head): UAR={result['per_clip']['uar']:.3f}")
    share = result.get("overlap_share")
    console.print(
        "overlap with the model's training clips: "
        + ("unknown (no hashes in meta.json)" if share is None else f"{share:.1%}")
    )
