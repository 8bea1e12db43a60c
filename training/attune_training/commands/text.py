"""CLI commands of the text area: train / eval / bench the text models, analyze conversations."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from attune.cli.groups import eval_app, fail, train_app
from attune.cli.text import emit_result as _emit
from attune.cli.text import progress_bar as _progress

DATASETS = Path(
    os.environ.get("ATTUNE_DATASETS", Path(__file__).resolve().parents[4] / "shared" / "datasets")
)
PACKS = {"customer_service": "bitext_customer_support", "banking": "banking77"}
# Packs whose shipped artifact reads an encoder fine-tuned for them (see its model card)
PACK_ENCODERS = {"banking": "text-encoder-banking"}
ENCODER = "text-encoder"  # the shared one
DataOpt = Annotated[Path, typer.Option("--data", help="CSV with columns text,labels")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]


def _features_fn(cache: Path | None, encoder_name: str = "text-encoder") -> Any:
    """Encoder features with a progress bar, cached on disk by content hash if asked."""
    import hashlib
    import os

    import numpy as np

    from attune.models.runtime import ModelNotFound, artifact_dir
    from attune.signals.text.encoder import Encoder

    try:  # a name, or a folder (a carve-out run's encoder that never ships)
        folder = Path(encoder_name) if "/" in encoder_name else artifact_dir(encoder_name)
    except ModelNotFound as exc:
        fail(str(exc))
    if not (folder / "model.onnx").is_file():
        fail(f"{folder}: no encoder (model.onnx) there")
    # ATTUNE_TRAIN_THREADS=1 keeps a long run to one core on a shared machine
    encoder = Encoder(folder, threads=int(os.environ.get("ATTUNE_TRAIN_THREADS", "2")))
    version = json.loads((folder / "meta.json").read_text()).get("version", "")

    seen: dict[str, np.ndarray] = {}  # training may ask twice for the train rows

    def features(texts: list[str], stage: str) -> np.ndarray:
        # the cache key names the encoder too: one cache folder may serve several encoders
        texts_key = "\x00".join([encoder_name, version, *texts])
        key = hashlib.sha1(texts_key.encode()).hexdigest()[:16]
        if key in seen:
            return seen[key]
        file = cache / f"feat-{key}.npy" if cache else None
        if file is not None and file.exists():
            return np.load(file)
        with _progress() as bar:
            task = bar.add_task(f"encoding {stage}", total=len(texts))
            out = encoder.features(texts, on_batch=lambda n: bar.advance(task, n))
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            np.save(file, out)
        seen[key] = out
        return out

    return features


def _encoder_version(folder: str) -> str:
    """The version an encoder folder's meta.json gives (recorded with the pack it chose for)."""
    return str(json.loads((Path(folder) / "meta.json").read_text()).get("version", folder))


def _out_dir(name: str, out: Path | None) -> Path:
    import os

    from attune.models.runtime import ModelNotFound, artifact_dir

    if out is not None:
        return out
    override = os.environ.get("ATTUNE_MODELS_DIR")
    if override:
        return Path(override) / name
    try:  # retrain in place: the installed distribution's folder (editable in a checkout)
        return artifact_dir(name)
    except ModelNotFound:
        fail(f"no installed model {name!r} to replace: give --out or set ATTUNE_MODELS_DIR")


@train_app.command("text-emotion")
def train_text_emotion(
    data_dir: Annotated[Path, typer.Option(help="GoEmotions folder (train.csv, dev.csv)")] = (
        DATASETS / "goemotions"
    ),
    out: Annotated[Path | None, typer.Option(help="artifact folder")] = None,
    head: Annotated[
        str,
        typer.Option(
            help="encoder (the head fine-tuned with the shipped encoder), or mlp / linear "
            "fitted on its features (for a frozen encoder, with --folds 5)"
        ),
    ] = "encoder",
    seed: int = 13,
    cache: Annotated[Path | None, typer.Option(help="cache encoder features here")] = None,
    folds: Annotated[
        int,
        typer.Option(
            help="fit thresholds, temperatures and the ensemble weight on out-of-fold "
            "train predictions (k folds) instead of on dev; 0: on dev (needed when the "
            "encoder was fine-tuned on train)"
        ),
    ] = 0,
) -> None:
    """Train the GoEmotions emotion model (train split to fit, dev split to score)."""
    from attune.signals.taxonomy import GOEMOTIONS_LABELS
    from attune_training.text_run import run_training

    command = f"attune train text-emotion --head {head} --seed {seed} --folds {folds}"
    run_training(
        "emotion",
        "text-emotion",
        data_dir / "train.csv",
        data_dir / "dev.csv",
        list(GOEMOTIONS_LABELS),
        _out_dir("text-emotion", out),
        head,
        seed,
        command,
        _features_fn(cache),
        "goemotions",
        folds=folds,
    )


@train_app.command("intent")
def train_intent(
    pack: Annotated[str, typer.Option(help="pack name: customer_service, banking or your own")],
    data: Annotated[Path | None, typer.Option(help="your own text,labels CSV")] = None,
    dev: Annotated[Path | None, typer.Option(help="dev CSV (default: 15% of --data)")] = None,
    out: Annotated[Path | None, typer.Option(help="artifact folder")] = None,
    head: Annotated[
        str,
        typer.Option(help="linear or mlp, or encoder (the intent head fine-tuned with --encoder)"),
    ] = "linear",
    encoder: Annotated[
        str | None,
        typer.Option(
            help="encoder artifact whose features the pack reads (default: the pack's own "
            "fine-tuned encoder where one ships, else the shared text-encoder)"
        ),
    ] = None,
    seed: int = 13,
    cache: Annotated[Path | None, typer.Option(help="cache encoder features here")] = None,
    select_share: Annotated[
        float,
        typer.Option(
            help="choose temperatures, weights and thresholds on this share of train, carved "
            "out (stratified, --seed), not on dev; with an encoder of the pack's own, also a "
            "cascade: a quick stage on the shared encoder answers alone when sure (0: off)"
        ),
    ] = 0.0,
    select_encoder: Annotated[
        str | None,
        typer.Option(
            help="with --select-share: the pack encoder's features for the choosing come from "
            "this encoder folder, fine-tuned without the carve-out (text_encoder "
            "--select-share); the shipped members read --encoder, refitted on all train rows"
        ),
    ] = None,
) -> None:
    """Train an intent pack (Bitext customer_service, Banking77, or a company CSV)."""
    from attune_training.text_run import run_training

    encoder = encoder or PACK_ENCODERS.get(pack, "text-encoder")
    if not 0.0 <= select_share < 0.5:
        fail("--select-share must be in [0, 0.5)")
    if select_share and head != "linear":
        fail("--select-share fits linear heads only (--head linear)")
    if select_encoder and not select_share:
        fail("--select-encoder needs --select-share")

    if data is None:
        if pack not in PACKS:
            fail(f"unknown pack {pack!r}: use {' or '.join(PACKS)}, or give --data my.csv")
        folder = DATASETS / PACKS[pack]
        data, dev = folder / "train.csv", folder / "dev.csv"
    command = f"attune train intent --pack {pack}" + (
        f" --data {data.name}" if pack not in PACKS else ""
    )
    name = f"intent-{pack}"
    run_training(
        "intent",
        name,
        data,
        dev,
        None,
        _out_dir(name, out),
        head,
        seed,
        command
        + f" --head {head} --encoder {encoder} --seed {seed}"
        + (f" --select-share {select_share}" if select_share else "")
        + (" --select-encoder DIR" if select_encoder else ""),
        _features_fn(cache, encoder),
        pack,
        off_topic=DATASETS / "goemotions" / "dev.csv" if pack in PACKS else None,
        encoder=encoder,
        # company packs get a head on the multilingual route too (German messages go there);
        # the shipped packs' German heads come with `attune train text-multilingual`
        multilingual=pack not in PACKS,
        select_share=select_share,
        shared_features=_features_fn(cache) if select_share and encoder != ENCODER else None,
        select_features=_features_fn(cache, select_encoder) if select_encoder else None,
        extra={"chosen_with_encoder": _encoder_version(select_encoder)} if select_encoder else None,
    )


@eval_app.command("text-emotion")
def eval_text_emotion(data: DataOpt, as_json: JsonOpt = False) -> None:
    """Score the emotion model on a text,labels CSV (labels ;-joined GoEmotions names)."""
    from attune_training.text_eval import eval_emotion
    from attune_training.text_run import load_eval_data

    encoder, model, rows = load_eval_data(data, None)
    with _progress() as bar:
        task = bar.add_task("scoring", total=len(rows))
        result = eval_emotion(model, encoder, rows, lambda n: bar.advance(task, n))
    _emit(result, as_json)


@eval_app.command("intent")
def eval_intent_cmd(
    pack: Annotated[str, typer.Option(help="intent pack name")],
    data: DataOpt,
    as_json: JsonOpt = False,
) -> None:
    """Score an intent pack on a text,labels CSV (one label per row)."""
    from attune_training.text_eval import eval_intent
    from attune_training.text_lang_eval import routed_intents
    from attune_training.text_run import load_eval_data, shared_encoder_for

    encoder, model, rows = load_eval_data(data, pack)
    # German rows: the multilingual route's head
    routed = routed_intents(pack, rows.texts, model.labels)
    shared = shared_encoder_for(model)  # a pack with a cascade reads both, as at run time
    with _progress() as bar:
        task = bar.add_task("scoring", total=len(rows))
        result = eval_intent(
            model, encoder, rows, lambda n: bar.advance(task, n), routed=routed, shared=shared
        )
    _emit(result, as_json)


@train_app.command("text-multilingual")
def train_text_multilingual(
    german_data: Annotated[
        Path,
        typer.Option(
            "--german-data",
            help="folder with de_seed_train.csv, de_cs_train.csv, de_feedback_train.csv",
        ),
    ] = Path(__file__).resolve().parents[1] / "data",
    out: Annotated[Path | None, typer.Option(help="artifact folder")] = None,
    seed: int = 13,
    folds: Annotated[int, typer.Option(help="German CV folds that choose the weights")] = 5,
    cache: Annotated[Path | None, typer.Option(help="cache encoder features here")] = None,
) -> None:
    """Train the heads of the multilingual (German) route on frozen USE-m3 features."""
    from attune.signals.text.multilingual import MULTILINGUAL, MultilingualEncoder
    from attune_training.text_multilingual import (
        build_parts,
        cached_features,
        load_german,
        train_multilingual,
    )
    from attune_training.text_multilingual_select import select

    try:
        german = load_german(german_data)
    except (FileNotFoundError, KeyError) as exc:
        fail(f"{german_data}: cannot read the German train rows ({exc})")
    encoder = MultilingualEncoder()

    def encode(texts: list[str]) -> Any:
        with _progress() as bar:
            task = bar.add_task(f"encoding {len(texts)} rows", total=len(texts))
            parts = []
            for i in range(0, len(texts), 64):
                parts.append(encoder.features(texts[i : i + 64]))
                bar.advance(task, len(parts[-1]))
        import numpy as np

        return np.concatenate(parts)

    features = cached_features(encode, cache)
    built = build_parts(DATASETS, german, features, seed, folds)
    weights, selection = select(built[0], seed, folds, log=lambda m: print(m, file=sys.stderr))
    command = f"attune train text-multilingual --seed {seed} --folds {folds}"
    out_dir = _out_dir(MULTILINGUAL, out)
    meta = train_multilingual(DATASETS, built, out_dir, features, seed, command, weights, selection)
    _emit({**meta["dev"], "german_weights": weights, "cv": selection["cv_scores"]}, True)


@eval_app.command("sentiment")
def eval_sentiment_cmd(
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,label")],
    as_json: JsonOpt = False,
) -> None:
    """Score the routed reading's sentiment (negative|neutral|positive), any language."""
    from attune_training.text_lang_eval import DataError, eval_sentiment

    try:
        _emit(eval_sentiment(data), as_json)
    except DataError as exc:
        fail(str(exc))


@eval_app.command("cx-state")
def eval_cx_state_cmd(
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,state[,lang]")],
    as_json: JsonOpt = False,
) -> None:
    """Score the routed reading's CX state (six states), overall and per language."""
    from attune_training.text_lang_eval import DataError, eval_cx_state

    try:
        _emit(eval_cx_state(data), as_json)
    except DataError as exc:
        fail(str(exc))
