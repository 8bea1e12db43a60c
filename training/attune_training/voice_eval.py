"""``attune eval voice``: score the shipped (or a retrained) model on a labelled file of clips.

Each clip is scored on its own by the population head (gain-invariant features, no speaker
information): the eval file has no speaker column, and nothing is inferred about speakers.
Optional channel simulation (telephone band, added noise) checks robustness.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.audio_io import AudioDecodeError, decode_audio
from attune.signals.voice.emotion import EmotionModel
from attune.signals.voice.features import extract
from attune_training import voice_metrics as vm
from attune_training.voice_data import (
    DataError,
    add_noise,
    clip_hash,
    read_table,
    telephone,
)


def evaluate(
    csv_path: Path,
    root: Path,
    model_name: str = "voice-emotion",
    channel: str = "clean",
    snr_db: float | None = None,
    limit: int | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
    warn: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    if channel not in ("clean", "phone"):
        raise DataError(f"channel must be clean or phone, got {channel!r}")
    t0 = time.time()
    rows = read_table(csv_path)[:limit] if limit else read_table(csv_path)
    if not root.is_dir():
        raise DataError(f"--root {root} is not a folder")
    model = EmotionModel(model_name)
    known = set(model.labels)
    use = [r for r in rows if r.emotion in known]
    rng = np.random.default_rng(0)
    feats, truth, kept = [], [], []
    failed: list[str] = []
    advance = progress(len(use)) if progress else (lambda: None)
    trained = set(model.bundle.meta.get("training_clips", {}).get("sha256_16", []))
    overlap = 0
    for r in use:
        try:
            path = root / r.path
            if not path.is_file():
                raise DataError(f"audio file not found: {path}")
            data = path.read_bytes()
            x = decode_audio(data)[0].mean(axis=0)
        except (DataError, AudioDecodeError) as exc:
            failed.append(r.path)
            if len(failed) <= 5:
                warn(f"skipped {r.path}: {exc}")
            advance()
            continue
        if channel == "phone":
            x = telephone(x)
        if snr_db is not None:
            x = add_noise(x, snr_db, rng)
        overlap += clip_hash(data) in trained
        vec, _ = extract(x)
        feats.append(vec)
        truth.append(r.emotion)
        kept.append(r)
        advance()
    if not feats:
        raise DataError("no clip could be scored (check --root and the emotion labels)")
    share = overlap / len(feats)
    if not trained:
        warn(
            f"model {model_name}@{model.version} records no training-clip hashes: "
            "overlap with its training data cannot be checked"
        )
    elif overlap:
        warn(
            f"WARNING: {overlap} of {len(feats)} clips ({share:.0%}) are in this model's training "
            "data: these figures are not held-out figures"
        )
    probs = model.population_probs(np.stack(feats))
    labels = model.labels
    pred = [labels[i] for i in probs.argmax(axis=1)]
    y_idx = np.asarray([labels.index(t) for t in truth])
    out: dict[str, Any] = {
        **vm.scores(truth, pred, labels),
        "n_skipped": len(rows) - len(use),
        "n_failed": len(failed),
        "n_overlap": overlap,
        "overlap_share": round(share, 4) if trained else None,
        "labels": labels,
        "confusion": vm.confusion(truth, pred, labels),
        "ece": vm.ece(probs, y_idx),
        "by_sex": vm.by_group(truth, pred, [r.gender for r in kept], labels),
        "by_corpus": vm.by_group(truth, pred, [_corpus(r.corpus, r.path) for r in kept], labels),
        "channel": channel,
        "snr_db": snr_db,
        "normalisation": "per clip: gain-invariant features, population head, no speaker info",
        "model": f"{model_name}@{model.version}",
        "seconds": round(time.time() - t0, 1),
    }
    return out


def _corpus(column: str, path: str) -> str:
    """The corpus column, else the first folder of the path (only used to group the report)."""
    parts = Path(path).parts
    return column or (parts[0] if len(parts) > 1 else "")
