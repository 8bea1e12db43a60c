"""The ``attune train voice`` pipeline: tables -> features (with augmentation) -> speaker-folds
cross-validation report -> final fit of both heads -> ONNX artifact with its model card."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.features import N_FEATURES
from attune_training import voice_metrics as vm
from attune_training.voice_calls import simulate
from attune_training.voice_data import Row, featurize_chunk, read_table
from attune_training.voice_train import (
    TrainConfig,
    cross_validate,
    fit,
    head_inputs,
    softmax,
    training_labels,
    write_artifact,
)

TEST_VARIANTS = ("clean", "phone", "noise")
Progress = Callable[[str, int], Callable[[], None]]  # (task name, total) -> advance()


@dataclass
class Source:
    csv: Path
    root: Path
    corpus: str


def sources_from(paths: Sequence[Path], root: Path | None) -> list[Source]:
    """One source per CSV; its root is ``root`` or the CSV's folder; corpus = that folder's name."""
    out = []
    for p in paths:
        base = root or p.parent
        out.append(Source(p, base, p.parent.name))
    return out


def load_rows(sources: Sequence[Source]) -> tuple[list[Row], list[Path]]:
    rows: list[Row] = []
    roots: list[Path] = []
    for src in sources:
        for r in read_table(src.csv, corpus=src.corpus):
            r.speaker = f"{r.corpus}:{r.speaker}" if r.speaker else ""
            rows.append(r)
            roots.append(src.root)
    return rows, roots


def features(
    rows: list[Row], roots: list[Path], cfg: TrainConfig, cache: Path | None, progress: Progress
) -> np.ndarray:
    """(variants, rows, F); derived features only may be cached (never audio)."""
    key = [f"{r.corpus}/{r.path}" for r in rows]
    if cache and cache.is_file():
        z = np.load(cache)
        same = list(z["key"]) == key and tuple(z["variants"]) == cfg.variants
        if same and z["x"].shape[-1] == N_FEATURES:
            return np.asarray(z["x"])
    advance = progress("features", len(rows))
    x = np.zeros((len(cfg.variants), len(rows), N_FEATURES), np.float32)
    step = 25  # rows per task: fine-grained progress, little overhead
    chunks = [(i, rows[i : i + step], roots[i : i + step]) for i in range(0, len(rows), step)]
    if cfg.workers <= 1:
        done = (featurize_chunk(r, p, cfg.variants, cfg.seed, i) for i, r, p in chunks)
        for start, part in done:
            x[:, start : start + part.shape[1]] = part
            for _ in range(part.shape[1]):
                advance()
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: onnxruntime sessions already open in this process must not be forked.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(cfg.workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(featurize_chunk, r, p, cfg.variants, cfg.seed, i) for i, r, p in chunks
            ]
            for fut in as_completed(futures):
                start, part = fut.result()
                x[:, start : start + part.shape[1]] = part
                for _ in range(part.shape[1]):
                    advance()
    if cache:
        np.savez(cache, x=x, key=np.asarray(key), variants=np.asarray(cfg.variants))
    return x


def cv_report(
    x: np.ndarray, rows: list[Row], cfg: TrainConfig, progress: Progress
) -> dict[str, Any]:
    """Speaker-independent out-of-fold scores for both heads, per test variant and group."""
    labels = training_labels([r.emotion for r in rows], cfg)
    speakers = [r.speaker or f"row{i}" for i, r in enumerate(rows)]
    truth = np.asarray([r.emotion for r in rows], dtype=object)
    scored = np.isin(truth, cfg.classes)
    corpus = [r.corpus for r in rows]
    sex = [r.gender for r in rows]
    out: dict[str, Any] = {}
    for head, (xh, _) in head_inputs(x, [r.speaker for r in rows]).items():
        c = cfg.c_population if head == "population" else cfg.c_speaker
        probs, classes = cross_validate(
            xh, labels, speakers, cfg, c, progress(f"cv {head}", cfg.folds)
        )
        y_idx = np.asarray([classes.index(t) if t in classes else -1 for t in truth])
        rep: dict[str, Any] = {}
        for v, name in enumerate(cfg.variants):
            if name not in TEST_VARIANTS:
                continue
            pred = np.asarray(classes, dtype=object)[probs[v].argmax(axis=1)]
            t, p = truth[scored], pred[scored]
            rep[name] = {
                **vm.scores(t, p, cfg.classes),
                "by_corpus": vm.by_group(t, p, np.asarray(corpus)[scored], cfg.classes),
                "by_sex": vm.by_group(t, p, np.asarray(sex)[scored], cfg.classes),
            }
        z = probs[cfg.variants.index("clean")][scored]
        temp = vm.fit_temperature(z, y_idx[scored])
        clean, cal = softmax(z), softmax(z, temp)
        ece_raw, ece_cal = vm.ece(clean, y_idx[scored]), vm.ece(cal, y_idx[scored])
        rep["calibration"] = {
            "ece_raw": ece_raw,
            "temperature_nll": temp,
            "ece_calibrated": ece_cal,
            # Ship the NLL-fitted temperature only where it also lowers the calibration error.
            "temperature": temp if ece_cal < ece_raw else 1.0,
        }
        rep["confusion"] = {
            "labels": classes,
            "matrix": vm.confusion(
                truth[scored], np.asarray(classes, dtype=object)[clean.argmax(axis=1)], classes
            ),
        }
        out[head] = rep
    temp = out["speaker"]["calibration"]["temperature"]
    out["calls"] = simulate(x, rows, cfg, temp, progress("simulated calls", cfg.folds))
    return out


def train(
    sources: Sequence[Source],
    out_dir: Path,
    cfg: TrainConfig,
    progress: Progress,
    cv: bool = True,
    cache: Path | None = None,
    command: str = "",
    card: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    t0 = time.time()
    rows, roots = load_rows(sources)
    x = features(rows, roots, cfg, cache, progress)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r.corpus, {}).setdefault(r.emotion, 0)
        counts[r.corpus][r.emotion] += 1
    report: dict[str, Any] = {
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
        "counts": counts,
        "speakers": len({r.speaker for r in rows if r.speaker}),
        "command": command,
    }
    if cv:
        report["cv"] = cv_report(x, rows, cfg, progress)
    labels = training_labels([r.emotion for r in rows], cfg)
    inputs = head_inputs(x, [r.speaker for r in rows])
    advance = progress("final fit", 2)
    heads = {}
    for head, (xh, _) in inputs.items():
        c = cfg.c_population if head == "population" else cfg.c_speaker
        heads[head] = fit(xh, labels, cfg, c)
        advance()
    temps = {
        h: report.get("cv", {}).get(h, {}).get("calibration", {}).get("temperature", 1.0)
        for h in heads
    }
    report["train_seconds"] = round(time.time() - t0, 1)
    meta = {
        "version": time.strftime("%Y%m%d"),
        "classes": list(heads["population"].classes_),
        "heads": {
            "population": {
                "file": "model.onnx",
                "input": "gain_invariant",
                "output": "scores",  # softmax(scores / temperature) = probabilities
                "temperature": temps["population"],
            },
            "speaker": {
                "file": "model_spk.onnx",
                "input": "minus_speaker_mean",
                "output": "scores",  # softmax(scores / temperature) = probabilities
                "temperature": temps["speaker"],
            },
        },
        "sample_rate": 16000,
        "window_s": 3.0,
        "trained_on": sorted(counts),
        "command": command,
    }
    text = card(report) if card else f"# voice-emotion (retrained)\n\nCommand: `{command}`\n"
    write_artifact(out_dir, heads, inputs["speaker"][1], meta, text)
    return report
