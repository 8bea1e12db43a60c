"""An intent pack with an encoder of its own, every choice made on rows carved out of train.

``attune train intent --pack banking --select-share 0.1``: a stratified share of train (the
very rows ``python -m attune_training.text_encoder --select-share`` kept away from the
pack's encoder, same seed) is set aside. The members are fitted on the rest:
- ``full``: linear head on the pack's own encoder features + the TF-IDF member;
- ``quick``: linear head on the shared encoder's features (the emotion model computes them
  anyway) + the same TF-IDF member.
On the carved-out rows: one temperature per member, the two ensemble weights, the
``unknown`` threshold and the cascade threshold (the quick stage answers alone at or above
it). Then the members are refitted on all train rows with those settings. Dev is not read.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.text.cascade import QUICK_HEAD
from attune_training import text_metrics as tm
from attune_training.text_data import Labelled, split_index
from attune_training.text_heads import HEAD_FILE, fit_head, head_logits, save_head
from attune_training.text_tfidf import (
    HEAD_FILE as TFIDF_HEAD,
)
from attune_training.text_tfidf import (
    VECTORIZER_FILES,
    TfidfFeatures,
    export_vectorizer,
    export_vocab,
    fit_linear,
    fit_vectorizer,
)
from attune_training.text_train import TrainConfig, unknown_threshold, weights_digest

Features = Callable[[list[str], str], np.ndarray]
WEIGHTS = np.round(np.arange(0.0, 1.01, 0.1), 2)
THRESHOLDS = np.round(np.arange(0.5, 0.991, 0.01), 2)


def _accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return float((probs.argmax(1) == y).mean())


def best_weight(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    """The weight on ``a`` (grid of 0.1) with the best accuracy of ``w a + (1 - w) b``."""
    scan = {str(w): _accuracy(w * a + (1 - w) * b, y) for w in WEIGHTS}
    return float(max(WEIGHTS, key=lambda w: scan[str(w)])), scan


def cascade_accuracy(quick: np.ndarray, full: np.ndarray, y: np.ndarray, t: float) -> float:
    sure = quick.max(1) >= t
    return _accuracy(np.where(sure[:, None], quick, full), y)


def choose_threshold(quick: np.ndarray, full: np.ndarray, y: np.ndarray) -> float:
    """The lowest threshold from which on (it and every higher one) the cascade is at least
    as accurate as the full ensemble on these rows: the quick stage may answer only where
    answering costs nothing measurable. 1.0 (never answer alone) if no threshold qualifies."""
    base = _accuracy(full, y)
    chosen = 1.0
    for t in THRESHOLDS[::-1]:
        if cascade_accuracy(quick, full, y, float(t)) < base:
            break
        chosen = float(t)
    return chosen


def _tfidf(texts: list[str], y: np.ndarray, folder: Path, c: float, seed: int) -> Any:
    """Word + char vectorizers fitted on ``texts``, exported to ``folder`` (read back as at
    run time), and the logistic regression on them: (features, coef, bias)."""
    files = [folder / f for f in VECTORIZER_FILES]
    for analyzer, file in zip(("word", "char"), files, strict=True):
        export_vectorizer(fit_vectorizer(texts, analyzer), file)
        export_vocab(file)
    exported = TfidfFeatures(files)
    coef, bias = fit_linear(exported.transform_sparse(texts), y, False, c, seed)
    return exported, coef, bias


def _members(
    cfg: TrainConfig,
    texts: list[str],
    y: np.ndarray,
    own: np.ndarray,
    shared: np.ndarray,
    folder: Path,
) -> dict[str, Any]:
    """The three members fitted on ``texts`` (``own``, ``shared``: their encoder features)."""
    full = fit_head(own, y, False, "linear", cfg.seed, cfg.head_c)
    quick = fit_head(shared, y, False, "linear", cfg.seed, cfg.head_c)
    tfidf, coef, bias = _tfidf(texts, y, folder, cfg.tfidf_c, cfg.seed)
    return {"full": full, "quick": quick, "tfidf": tfidf, "coef": coef, "bias": bias}


def select(
    cfg: TrainConfig,
    train: Labelled,
    y: np.ndarray,
    own: np.ndarray,
    shared: np.ndarray,
    share: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Every setting of the pack, chosen on ``share`` of train carved out (members fitted on
    the rest). ``own``, ``shared``: both encoders' features of every train row."""
    fit, held = split_index(train, share, cfg.seed)
    texts = [train.texts[i] for i in fit]
    y_held = y[held]
    with tempfile.TemporaryDirectory() as tmp:
        m = _members(cfg, texts, y[fit], own[fit], shared[fit], Path(tmp))
        x_held = m["tfidf"].transform_sparse([train.texts[i] for i in held])
        peer_logits = np.asarray(x_held @ m["coef"] + m["bias"])
    full_logits = head_logits(m["full"], own[held])
    quick_logits = head_logits(m["quick"], shared[held])
    log(f"members fitted on {len(fit)} rows, choosing on {len(held)} carved-out rows")
    members = {"encoder": full_logits, "peer": peer_logits, "quick": quick_logits}
    t = {name: tm.fit_temperature(logits, y_held, False) for name, logits in members.items()}
    p_full, p_peer, p_quick = (
        tm.softmax(full_logits / t["encoder"]),
        tm.softmax(peer_logits / t["peer"]),
        tm.softmax(quick_logits / t["quick"]),
    )
    w, scan = best_weight(p_full, p_peer, y_held)
    w_quick, quick_scan = best_weight(p_quick, p_peer, y_held)
    full = w * p_full + (1 - w) * p_peer
    quick = w_quick * p_quick + (1 - w_quick) * p_peer
    threshold = choose_threshold(quick, full, y_held)
    sure = quick.max(1) >= threshold
    return {
        "temperature": {"encoder": t["encoder"], "peer": t["peer"]},
        "ensemble_weight": w,
        "ensemble_scan": scan,
        "unknown_threshold": unknown_threshold(full, y_held),
        "peer_unknown_threshold": unknown_threshold(p_peer, y_held),
        "cascade": {
            "encoder": "text-encoder",
            "weight": w_quick,
            "weight_scan": quick_scan,
            "temperature": t["quick"],
            "threshold": threshold,
            "quick_share": round(float(sure.mean()), 4),
            "accuracy": {
                "full": round(_accuracy(full, y_held), 4),
                "quick": round(_accuracy(quick, y_held), 4),
                "cascade": round(cascade_accuracy(quick, full, y_held, threshold), 4),
            },
        },
        "select_rows": len(held),
        "fit_rows": len(fit),
    }


def train_cascade_pack(
    cfg: TrainConfig,
    train: Labelled,
    dev: Labelled,
    labels: list[str],
    own: tuple[Features, Features],
    shared: Features,
    share: float,
    out_dir: Path,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Choose on the carve-out (``select``), refit the members on all train rows, write the
    artifact. ``own``: (the pack encoder's features to choose with, to ship with): the first
    from an encoder fine-tuned without the carve-out, so that its rows are unseen there; the
    second may be the same or the encoder refitted on all train rows for the chosen epochs.
    ``dev`` is only counted here (it is scored afterwards, like any pack's)."""
    t0 = time.time()
    col = {n: i for i, n in enumerate(labels)}
    y = np.array([col[x[0]] for x in train.labels])
    f_shared = shared(train.texts, "train (shared encoder)")
    chooser, shipped = own
    f_choose = chooser(train.texts, "train (choosing)")
    chosen = select(cfg, train, y, f_choose, f_shared, share, log)
    f_own = f_choose if shipped is chooser else shipped(train.texts, "train")
    out_dir.mkdir(parents=True, exist_ok=True)
    m = _members(cfg, train.texts, y, f_own, f_shared, out_dir)
    log("members refitted on all train rows")
    save_head(m["full"], out_dir / HEAD_FILE)
    save_head(m["quick"], out_dir / QUICK_HEAD)
    np.savez_compressed(out_dir / TFIDF_HEAD, w1=m["coef"], b1=m["bias"])
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=1))
    where = f"a {share:.0%} carve-out of train ({chosen['select_rows']} rows, seed {cfg.seed})"
    meta: dict[str, Any] = {
        "name": cfg.name,
        "kind": "intent",
        "version": time.strftime("%Y%m%d") + f"-s{cfg.seed}",
        "labels": len(labels),
        "encoder": cfg.encoder,
        "head": "linear",
        "tfidf": "word 1-2-grams + char 2-4-grams",
        "tfidf_c": cfg.tfidf_c,
        **chosen,
        "decisions_fitted_on": where,
        "train_rows": len(train),
        "dev_rows": len(dev),
        "seed": cfg.seed,
        "command": cfg.command,
        **cfg.extra,
    }
    meta["version"] += "-" + _digest(out_dir, chosen)
    meta["train_seconds"] = round(time.time() - t0, 1)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def _digest(out_dir: Path, chosen: dict[str, Any]) -> str:
    """8 hex digits over the member weights, the quick head and every chosen setting: a pack
    whose heads are unchanged but whose temperatures or thresholds differ gets a new version."""
    import hashlib

    digest = hashlib.sha256(weights_digest(out_dir).encode())
    with np.load(out_dir / QUICK_HEAD) as data:
        for key in sorted(data.files):
            digest.update(data[key].tobytes())
    digest.update(json.dumps(chosen, sort_keys=True).encode())
    return digest.hexdigest()[:8]
