"""Glue between the CLI and training/eval: read files, train, score on dev, write the card."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from attune.cli.groups import console, fail
from attune_training.text_card import LICENSES, write_card
from attune_training.text_cascade import train_cascade_pack
from attune_training.text_data import DataError, Labelled, read_labelled, stratified_split
from attune_training.text_train import Features, TrainConfig, train_text_model

NOTES: dict[str, dict[str, str]] = {
    "goemotions": {
        "data": "GoEmotions, official train (fit) and dev (selection) splits, 28 labels, "
        "multi-label; from `../shared/datasets/goemotions` (see its SOURCE.md).",
        "limits": "Reddit comments, not customer-service chat: tone and topics differ from "
        "support conversations. Rare labels (grief, pride, relief, nervousness: < 200 train "
        "rows) have low, unstable F1. English only. Decision rules are fitted on dev (the "
        "encoder was fine-tuned on every train row), so the dev figures above are optimistic; "
        "the cross-fitted estimate is the one to expect on unseen text. Emotion read from "
        "text is an estimate of how a message reads, not of how a person feels.",
    },
    "customer_service": {
        "data": "Bitext customer-support intents (27 intents), train/dev splits carved in "
        "`../shared/datasets/bitext_customer_support` (see its SOURCE.md).",
        "groups": "Error rate per Bitext language-variation tag (dev; a row has several tags):",
        "limits": "Synthetic, template-like utterances: real customers write longer, messier "
        "messages that mix several intents. English only. The `unknown` threshold is set so "
        "that no correct dev answer is withheld, so it rejects little off-topic text (see the "
        "off-topic figure): treat low-confidence intents as hints, not facts.",
    },
    "banking": {
        "data": "Banking77 (77 intents), official train minus a 10% dev carve-out, from "
        "`../shared/datasets/banking77` (see its SOURCE.md).",
        "limits": "Single-turn banking queries, several near-duplicate intents (e.g. the card "
        "payment / transfer fee families) cause most errors. English only. The `unknown` "
        "threshold is low (no correct carve-out answer withheld), so much off-topic text gets "
        "some banking intent (see the off-topic figure): use this pack only where messages are "
        "banking requests. It reads an encoder of its own (`text-encoder-banking`); with the "
        "cascade, only messages the quick stage is unsure of cost that second encoder pass "
        "(see the cascade section and that encoder's card).",
    },
}


def _read(path: Path, multi: bool, known: list[str] | None) -> Labelled:
    try:
        return read_labelled(path, multi, known)
    except DataError as exc:
        fail(str(exc))


def _tags(path: Path, n: int) -> list[str] | None:
    """Bitext tag letters per row, if the file has a ``tags`` column."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != n or "tags" not in rows[0]:
        return None
    return [r["tags"] or "-" for r in rows]


def run_training(
    kind: str,
    name: str,
    train_path: Path,
    dev_path: Path | None,
    labels: list[str] | None,
    out_dir: Path,
    head: str,
    seed: int,
    command: str,
    features: Features,
    notes_key: str,
    off_topic: Path | None = None,
    folds: int = 0,
    encoder: str = "text-encoder",
    multilingual: bool = False,
    select_share: float = 0.0,
    shared_features: Features | None = None,
    select_features: Features | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from attune.models.runtime import artifact_dir
    from attune.signals.text.encoder import Encoder
    from attune.signals.text.models import TextModel
    from attune_training.text_eval import eval_emotion, eval_intent

    multi = kind == "emotion"
    train = _read(train_path, multi, labels)
    if not multi and len({x[0] for x in train.labels}) < 2:
        fail(f"{train_path}: an intent pack needs at least two labels")
    if dev_path is None:
        train, dev = stratified_split(train, 0.15, seed)
        if len(dev) == 0:
            fail(f"{train_path}: too few rows per label to keep a dev split")
    else:
        dev = _read(dev_path, multi, labels)
    names = labels or sorted({x[0] for x in train.labels})
    missing = sorted({x[0] for x in dev.labels} - set(names)) if not multi else []
    if missing:
        fail(f"{dev_path}: label {missing[0]!r} is not in the training data")
    cfg = TrainConfig(
        kind=kind, name=name, encoder=encoder, head=head, seed=seed, command=command, folds=folds
    )
    cfg.extra.update(extra or {})
    cfg.char_ngrams = True  # word + char TF-IDF: +3.5 points (emotion), +0.2-0.4 (intents) on dev
    if kind == "intent":
        cfg.head_c, cfg.tfidf_c = 0.1, 20.0
    else:
        # NB-LR, C picked on dev: 0.2 -> 0.494, 0.5 -> 0.515, 1 -> 0.514, 2 -> 0.500 (member alone)
        cfg.tfidf_c, cfg.tfidf_nb = 0.5, True
    chosen_on = f"{select_share:.0%} of train" if select_share else f"{len(dev)} dev rows"
    console.print(f"training [bold]{name}[/] on {len(train)} rows, choosing on {chosen_on}")
    cascade = select_share > 0 and shared_features is not None and not multi
    try:
        if cascade:
            assert shared_features is not None
            share, chooser = select_share, select_features or features
            meta = train_cascade_pack(
                cfg, train, dev, names, (chooser, features), shared_features, share, out_dir,
                console.print,
            )  # fmt: skip
        else:
            meta = train_text_model(cfg, train, dev, names, features, out_dir, console.print)
    except ValueError as exc:  # e.g. --head encoder with an encoder that has no such head
        fail(str(exc))
    model = TextModel(out_dir)
    reader = Encoder(artifact_dir(encoder), threads=1)
    shared = Encoder(threads=1) if cascade else None
    if multi:
        result = eval_emotion(model, reader, dev)
    else:
        tags = _tags(dev_path, len(dev)) if dev_path is not None else None
        result = eval_intent(model, reader, dev, groups=tags, shared=shared)
        if off_topic is not None and off_topic.is_file():
            texts = read_labelled(off_topic, True).texts
            if cascade and shared_features is not None:
                own = lambda sub: features(sub, "off-topic")  # noqa: E731
                probs, _ = model.cascade_probs(texts, shared_features(texts, "off-topic"), own)
            else:
                probs = model.probs(features(texts, "off-topic"), texts)
            accepted = [lab for lab, _ in model.intents(probs) if lab != "unknown"]
            result["off_topic_accepted_rate"] = round(len(accepted) / len(texts), 4)
    if multilingual:
        result["multilingual"] = _fit_multilingual(train, dev, names, out_dir, seed)
    notes = NOTES.get(notes_key, {"data": f"Company data: `{train_path.name}`.", "limits": ""})
    notes = {**notes, "license": LICENSES.get(notes_key, "as stated by the data owner.")}
    write_card(out_dir / "MODEL_CARD.md", meta, result, notes)
    headline = {k: result[k] for k in ("macro_f1", "ekman_macro_f1", "accuracy") if k in result}
    console.print(f"[green]wrote[/] {out_dir}  dev: {headline}")
    return result


def load_eval_data(data: Path, pack: str | None) -> tuple[Any, Any, Labelled]:
    """(encoder, model, rows) for eval: the emotion model, or intent pack ``pack``."""
    from attune.models.runtime import ModelNotFound, artifact_dir
    from attune.signals.taxonomy import GOEMOTIONS_LABELS
    from attune.signals.text.encoder import Encoder
    from attune.signals.text.models import EMOTION, TextModel, pack_name

    try:
        model = TextModel(artifact_dir(pack_name(pack) if pack else EMOTION))
        encoder = Encoder(artifact_dir(model.encoder_name))
    except ModelNotFound as exc:
        fail(str(exc))
    known = list(GOEMOTIONS_LABELS) if pack is None else None
    return encoder, model, _read(data, pack is None, known)


def _fit_multilingual(
    train: Labelled, dev: Labelled, names: list[str], out_dir: Path, seed: int
) -> dict[str, Any] | str:
    """The pack's head for messages routed to German (see text_pack_multilingual)."""
    from attune_training.text_pack_multilingual import fit_pack_head

    meta = fit_pack_head(train, dev, names, out_dir, seed)
    if meta is None:
        console.print(
            "[yellow]no multilingual encoder (the text extra): German messages "
            "will get no intent from this pack[/]"
        )
        return "not fitted: the multilingual encoder is not installed"
    console.print(f"German route head: dev accuracy {meta['dev_accuracy']}")
    return {k: meta[k] for k in ("dev_accuracy", "unknown_threshold")}


def shared_encoder_for(model: Any) -> Any:
    """The shared encoder, where ``model`` is a pack with a cascade (its quick stage reads
    it), else None."""
    from attune.signals.text.encoder import Encoder

    return Encoder() if model.cascade is not None else None
