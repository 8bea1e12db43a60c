"""Train a text model (GoEmotions emotions or an intent pack) and write its artifact.

Recipe (the same for both, measured on the dev split):
1. features from an encoder artifact: the shared one (``text-encoder``, int8 ONNX
   all-MiniLM-L6-v2 fine-tuned on GoEmotions) or one fine-tuned for the pack
   (``text-encoder-banking``);
2. a head on those features (for emotions, the head fine-tuned with the encoder; logistic
   regression for intents, or the intent head fine-tuned with a pack's own encoder);
3. the TF-IDF + logistic-regression peer, fitted on the same train rows;
4. temperature scaling of each member on dev, then the ensemble weight picked on dev;
5. decision rules on dev: per-label thresholds (emotions) or the ``unknown`` threshold (intents).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.taxonomy import GROUPINGS
from attune_training import text_metrics as tm
from attune_training.text_data import Labelled, multi_hot
from attune_training.text_heads import (
    HEAD_FILE,
    encoder_head,
    fit_head,
    head_logits,
    save_head,
)
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

UNKNOWN_MARGIN = 0.9
Features = Callable[[list[str], str], np.ndarray]  # (texts, stage name) -> encoder features


@dataclass
class TrainConfig:
    kind: str  # "emotion" | "intent"
    name: str  # artifact name, e.g. "text-emotion", "intent-banking"
    encoder: str = "text-encoder"  # the encoder artifact whose features the head reads
    head: str = "mlp"
    head_c: float = 1.0
    tfidf_c: float = 4.0
    char_ngrams: bool = False
    seed: int = 13
    # > 1: temperatures, ensemble weight and thresholds are fitted on out-of-fold train
    # predictions (k folds) instead of on dev, so dev stays an honest estimate (emotion only)
    folds: int = 0
    tfidf_nb: bool = False  # NB-LR for the multi-label TF-IDF member (see fit_linear)
    command: str = ""
    data_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _dev_quality(probs: np.ndarray, y: np.ndarray, multi: bool) -> float:
    if multi:
        return tm.macro_f1(y, tm.labels_above(probs, tm.tune_thresholds(probs, y)))
    return float((probs.argmax(1) == y).mean())


def unknown_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """``unknown`` below 0.9 x the lowest confidence of a correct dev answer: no correct dev
    answer is withheld (accuracy is what the packs are judged on); text unlike any intent
    usually scores lower still (the model card reports the rate on off-topic Reddit text)."""
    conf, right = probs.max(1), probs.argmax(1) == y
    return round(float(UNKNOWN_MARGIN * conf[right].min()), 4) if right.any() else 0.0


def _head(
    cfg: TrainConfig, train: Labelled, y_tr: np.ndarray, labels: list[str], features: Features
) -> Any:
    if cfg.head != "encoder":
        f_tr = features(train.texts, "train")
        return fit_head(f_tr, y_tr, cfg.kind == "emotion", cfg.head, cfg.seed, cfg.head_c)
    if cfg.folds > 1:
        # the encoder was fine-tuned on every train row: out-of-fold predictions would look
        # far better than unseen text, so the decision rules must be fitted on dev
        raise ValueError("the fine-tuned encoder head needs --folds 0 (decisions on dev)")
    from attune.models.runtime import artifact_dir

    return encoder_head(artifact_dir(cfg.encoder), labels, cfg.kind)


def _out_of_fold(
    cfg: TrainConfig, f_tr: np.ndarray, x_tr: Any, y_tr: np.ndarray, log: Callable[[str], None]
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of both members for every train row from models fitted without its fold (the
    same recipe as the shipped members). Deciding on these 43k rows instead of 5k dev rows
    steadies the rare labels' thresholds and leaves dev unused until scoring."""
    rng = np.random.default_rng(cfg.seed)
    fold = rng.permutation(len(y_tr)) % cfg.folds
    enc = np.zeros(y_tr.shape, dtype=np.float32)
    peer = np.zeros(y_tr.shape, dtype=np.float32)
    for k in range(cfg.folds):
        fit, held = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        head = fit_head(f_tr[fit], y_tr[fit], True, cfg.head, cfg.seed, cfg.head_c)
        enc[held] = head_logits(head, f_tr[held])
        coef, bias = fit_linear(x_tr[fit], y_tr[fit], True, cfg.tfidf_c, cfg.seed, cfg.tfidf_nb)
        peer[held] = np.asarray(x_tr[held] @ coef + bias, dtype=np.float32)
        log(f"out-of-fold predictions: fold {k + 1}/{cfg.folds}")
    return enc, peer


def group_thresholds(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, list]:
    """One threshold per group (Ekman, primary CX) on the groups' noisy-OR probabilities."""
    out = {}
    for name, mapping in GROUPINGS.items():
        p, _ = tm.group_probs(probs, labels, mapping)
        truth, _ = tm.group(y, labels, mapping)
        out[name] = [round(float(x), 3) for x in tm.tune_thresholds(p, truth)]
    return out


def dev_crossfit(
    probs: np.ndarray, y: np.ndarray, labels: list[str], seed: int, folds: int = 5, repeats: int = 4
) -> dict[str, float]:
    """Dev macro-F1s with every threshold tuned on the other folds of dev: what dev-fitted
    thresholds are worth on unseen text (scoring on the rows they were tuned on flatters
    them; measured about 2 points on the 28 labels)."""
    rng = np.random.default_rng(seed)
    scores: dict[str, list[float]] = {}
    grouped = {
        name: (tm.group_probs(probs, labels, m)[0], tm.group(y, labels, m)[0])
        for name, m in GROUPINGS.items()
    }
    for _ in range(repeats):
        fold = rng.permutation(len(y)) % folds
        for k in range(folds):
            fit, held = fold != k, fold == k
            pred = tm.labels_above(probs[held], tm.tune_thresholds(probs[fit], y[fit]))
            scores.setdefault("macro_f1", []).append(tm.macro_f1(y[held], pred))
            for name, (p, truth) in grouped.items():
                cut = tm.tune_thresholds(p[fit], truth[fit])
                f1 = tm.macro_f1(truth[held], tm.labels_above(p[held], cut))
                scores.setdefault(f"{name}_macro_f1", []).append(f1)
    out = {k: round(float(np.mean(v)), 4) for k, v in scores.items()}
    return {**out, "folds": folds, "repeats": repeats}


def weights_digest(out_dir: Path) -> str:
    """8 hex digits over the head weights, so two runs with different weights never share
    a version (signals carry it as ``source``)."""
    import hashlib

    digest = hashlib.sha256()
    for name in (HEAD_FILE, TFIDF_HEAD):
        with np.load(out_dir / name) as data:
            for key in sorted(data.files):
                digest.update(data[key].tobytes())
    return digest.hexdigest()[:8]


def _calibrated(logits: np.ndarray, t: float, multi: bool) -> np.ndarray:
    return tm.sigmoid(logits / t) if multi else tm.softmax(logits / t)


def train_text_model(
    cfg: TrainConfig,
    train: Labelled,
    dev: Labelled,
    labels: list[str],
    features: Features,
    out_dir: Path,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    np.random.seed(cfg.seed)
    multi = cfg.kind == "emotion"
    t0 = time.time()
    if multi:
        y_tr, y_dv = multi_hot(train, labels), multi_hot(dev, labels)
    else:
        col = {n: i for i, n in enumerate(labels)}
        y_tr = np.array([col[x[0]] for x in train.labels])
        y_dv = np.array([col[x[0]] for x in dev.labels])

    head = _head(cfg, train, y_tr, labels, features)
    f_dv = features(dev.texts, "dev")
    enc_logits = head_logits(head, f_dv)
    log("encoder head fitted")

    analyzers = ["word", "char"] if cfg.char_ngrams else ["word"]
    vecs = [fit_vectorizer(train.texts, a) for a in analyzers]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / f for f in VECTORIZER_FILES[: len(vecs)]]
    for stale in VECTORIZER_FILES[len(vecs) :]:
        (out_dir / stale).unlink(missing_ok=True)
    for vec, file in zip(vecs, files, strict=True):
        export_vectorizer(vec, file)
        export_vocab(file)  # the n-gram table run time reads (the graph stays the reference)
    # Fit and score on the exported graph's features (mirrored text by text, as at run time):
    # its char tokenization differs from sklearn's (no whitespace folding, lines apart).
    exported = TfidfFeatures(files)
    x_tr = exported.transform_sparse(train.texts)
    coef, bias = fit_linear(x_tr, y_tr, multi, cfg.tfidf_c, cfg.seed, cfg.tfidf_nb)
    x_dev = exported.transform_sparse(dev.texts)
    peer_logits = np.asarray(x_dev @ coef + bias, dtype=np.float32)
    log(f"TF-IDF peer fitted ({sum(len(v.vocabulary_) for v in vecs)} n-grams, {analyzers})")

    # What the decision rules are fitted on: dev (default), or out-of-fold train predictions
    fit_enc, fit_peer, fit_y = enc_logits, peer_logits, y_dv
    if multi and cfg.folds > 1:
        f_tr = features(train.texts, "train")  # cached by the CLI's --cache, if given
        fit_enc, fit_peer = _out_of_fold(cfg, f_tr, x_tr, y_tr, log)
        fit_y = y_tr
    t_enc = tm.fit_temperature(fit_enc, fit_y, multi)
    t_peer = tm.fit_temperature(fit_peer, fit_y, multi)
    f_enc, f_peer = _calibrated(fit_enc, t_enc, multi), _calibrated(fit_peer, t_peer, multi)
    weights = np.round(np.arange(0.0, 1.01, 0.1), 2)
    scores = [_dev_quality(w * f_enc + (1 - w) * f_peer, fit_y, multi) for w in weights]
    w = float(weights[int(np.argmax(scores))])
    p_enc, p_peer = _calibrated(enc_logits, t_enc, multi), _calibrated(peer_logits, t_peer, multi)
    probs = w * p_enc + (1 - w) * p_peer

    meta: dict[str, Any] = {
        "name": cfg.name,
        "kind": cfg.kind,
        "version": time.strftime("%Y%m%d") + f"-s{cfg.seed}",
        "labels": len(labels),
        "encoder": cfg.encoder,
        "head": cfg.head,
        "tfidf": "word 1-2-grams"
        + (" + char 2-4-grams" if cfg.char_ngrams else "")
        + (", NB-weighted" if multi and cfg.tfidf_nb else ""),
        "tfidf_c": cfg.tfidf_c,
        "temperature": {"encoder": t_enc, "peer": t_peer},
        "ensemble_weight": w,
        "ensemble_scan": dict(zip([str(x) for x in weights], map(float, scores), strict=True)),
        "train_rows": len(train),
        "dev_rows": len(dev),
        "seed": cfg.seed,
        "command": cfg.command,
        **cfg.extra,
    }
    if multi:
        thr = tm.tune_thresholds(w * f_enc + (1 - w) * f_peer, fit_y)
        peer_thr = tm.tune_thresholds(f_peer, fit_y)
        meta["decisions_fitted_on"] = (
            f"out-of-fold train predictions ({cfg.folds} folds)" if fit_y is y_tr else "dev"
        )
        meta["thresholds"] = [round(float(x), 3) for x in thr]
        meta["group_thresholds"] = group_thresholds(w * f_enc + (1 - w) * f_peer, fit_y, labels)
        if fit_y is y_dv:
            meta["dev_crossfit"] = dev_crossfit(probs, y_dv, labels, cfg.seed)
        meta["peer_thresholds"] = [round(float(x), 3) for x in peer_thr]
    else:
        meta["unknown_threshold"] = unknown_threshold(probs, y_dv)
        meta["peer_unknown_threshold"] = unknown_threshold(p_peer, y_dv)
    save_head(head, out_dir / HEAD_FILE)
    np.savez_compressed(out_dir / TFIDF_HEAD, w1=coef, b1=bias)
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=1))
    meta["version"] += "-" + weights_digest(out_dir)  # tells runs of the same day apart
    meta["train_seconds"] = round(time.time() - t0, 1)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta
