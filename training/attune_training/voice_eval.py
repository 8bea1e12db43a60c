"""``attune eval voice``: score the shipped (or a retrained) model on a labelled file of clips.

Two ways to read the clips (``scoring``):

* ``calls``: each speaker's clips are played as one call, read as the live analyzer reads a
  caller: the first clip by the population head, every later one blended with the speaker head on
  its features minus the caller's running baseline, which only holds that speaker's *earlier*
  clips. This is what the product does, so it is the headline where the file names a speaker for
  every row. The clips of a call are in a seeded random order (``order="shuffled"``: the acted
  corpora are sorted by emotion) or in the file's order (``order="file"``, for real calls).
* ``clips``: each clip on its own by the population head (gain-invariant features, no history).
  Always reported, as ``per_clip`` beside a calls reading.

Nothing is inferred about speakers: without a speaker (or actor) column, clips are read alone.
Optional channel simulation (telephone band, added noise) checks robustness.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.audio_io import AudioDecodeError, decode_audio
from attune.signals.voice.baseline import Baseline
from attune.signals.voice.emotion import EmotionModel
from attune.signals.voice.features import Prosody, extract
from attune_training import voice_metrics as vm
from attune_training.voice_data import (
    DataError,
    Row,
    add_noise,
    clip_hash,
    read_table,
    telephone,
)

SCORINGS = ("auto", "calls", "clips")
ORDERS = ("shuffled", "file")


def evaluate(
    csv_path: Path,
    root: Path | None,
    model_name: str = "voice-emotion",
    channel: str = "clean",
    snr_db: float | None = None,
    limit: int | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
    warn: Callable[[str], None] = lambda m: None,
    scoring: str = "auto",
    order: str = "shuffled",
) -> dict[str, Any]:
    """Figures of ``model_name`` on the labelled clips of ``csv_path``; ``scoring="auto"`` reads
    them as calls when every row names its speaker, else clip by clip. Without ``root`` a path
    is looked up beside the CSV first (as ``attune train voice`` does), then in the current
    folder."""
    if channel not in ("clean", "phone"):
        raise DataError(f"channel must be clean or phone, got {channel!r}")
    if scoring not in SCORINGS or order not in ORDERS:
        raise DataError(
            f"scoring must be one of {', '.join(SCORINGS)} and order one of {', '.join(ORDERS)}"
        )
    t0 = time.time()
    rows = read_table(csv_path)[:limit] if limit else read_table(csv_path)
    if root is not None and not root.is_dir():
        raise DataError(f"--root {root} is not a folder")
    bases = [root] if root is not None else [csv_path.parent, Path(".")]
    model = EmotionModel(model_name)
    known = set(model.labels)
    use = [r for r in rows if r.emotion in known]
    rng = np.random.default_rng(0)
    feats, truth, kept, prosody = [], [], [], []
    failed: list[str] = []
    advance = progress(len(use)) if progress else (lambda: None)
    trained = set(model.bundle.meta.get("training_clips", {}).get("sha256_16", []))
    overlap = 0
    for r in use:
        try:
            path = next((b / r.path for b in bases if (b / r.path).is_file()), bases[0] / r.path)
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
        vec, pros = extract(x)
        feats.append(vec)
        prosody.append(pros)
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
    unnamed = sum(not r.speaker for r in kept)
    named = unnamed == 0
    if scoring == "calls" and not named:
        raise DataError("scoring calls needs a speaker (or actor) column filled on every row")
    if scoring == "auto" and 0 < unnamed < len(kept):
        warn(f"{unnamed} of {len(kept)} rows name no speaker: every clip is read alone")
    read_as = "calls" if scoring == "calls" or (scoring == "auto" and named) else "clips"
    x = np.stack(feats)
    per_clip = _figures(model.population_probs(x), truth, kept, model.labels)
    out: dict[str, Any] = {
        "n_skipped": len(rows) - len(use),
        "n_failed": len(failed),
        "n_overlap": overlap,
        "overlap_share": round(share, 4) if trained else None,
        "channel": channel,
        "snr_db": snr_db,
        "model": f"{model_name}@{model.version}",
    }
    if read_as == "clips":
        out |= per_clip | {"scoring": "clips", "normalisation": "per clip: population head"}
    else:
        calls = _figures(read_as_calls(model, x, prosody, kept, order), truth, kept, model.labels)
        out |= calls | {
            "scoring": "calls",
            "order": order,
            "n_calls": len({(r.corpus, r.speaker) for r in kept}),
            "normalisation": "each speaker's earlier clips as the caller's running baseline",
            "per_clip": per_clip,
        }
    return out | {"seconds": round(time.time() - t0, 1)}


def read_as_calls(
    model: EmotionModel, x: np.ndarray, prosody: list[Prosody], rows: list[Row], order: str
) -> np.ndarray:
    """Each speaker's clips as one call, each clip read against that caller's baseline so far.
    A speaker is the ``corpus`` column (when the file has one) with the speaker id."""
    probs = np.zeros((len(rows), len(model.labels)))
    rng = np.random.default_rng(0)
    speakers = np.asarray([f"{r.corpus}:{r.speaker}" for r in rows], dtype=object)
    for speaker in sorted(set(speakers.tolist())):
        idx = np.flatnonzero(speakers == speaker)
        baseline = Baseline()
        for i in idx[rng.permutation(len(idx))] if order == "shuffled" else idx:
            probs[i] = list(model.for_caller(x[i], baseline).values())
            baseline.update(x[i], prosody[i])
    return probs


def _figures(
    probs: np.ndarray, truth: list[str], rows: list[Row], labels: list[str]
) -> dict[str, Any]:
    pred = [labels[i] for i in probs.argmax(axis=1)]
    y_idx = np.asarray([labels.index(t) for t in truth])
    return {
        **vm.scores(truth, pred, labels),
        "labels": labels,
        "confusion": vm.confusion(truth, pred, labels),
        "ece": vm.ece(probs, y_idx),
        "by_sex": vm.by_group(truth, pred, [r.gender for r in rows], labels),
        "by_corpus": vm.by_group(truth, pred, [_corpus(r.corpus, r.path) for r in rows], labels),
    }


def _corpus(column: str, path: str) -> str:
    """The corpus column, else the first folder of the path (only used to group the report)."""
    parts = Path(path).parts
    return column or (parts[0] if len(parts) > 1 else "")
