"""The ``attune train voice`` pipeline: tables -> features (with augmentation) -> nested
speaker-folds report (inner folds choose C and temperature, outer folds report) -> C of each
head chosen by speaker folds over all speakers -> final fit -> ONNX artifact with its card."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.features import N_FEATURES, gain_invariant
from attune_training import voice_ensemble as ve
from attune_training import voice_metrics as vm
from attune_training.voice_calls import simulate
from attune_training.voice_data import Row, featurize_chunk, file_hash, read_table
from attune_training.voice_train import (
    TrainConfig,
    fit,
    head_inputs,
    logits,
    nested_cross_validate,
    select_c,
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
    corpus = np.asarray([r.corpus for r in rows], dtype=object)
    out: dict[str, Any] = {}
    oof: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for head, (xh, _) in head_inputs(x, [r.speaker for r in rows]).items():
        if head == "population" and cfg.population == "ensemble":
            advance = progress("nested cv population (ensemble)", 1)
            classes = sorted(c for c in cfg.classes if np.any(labels == c))
            space = ve.Space(seed=cfg.seed)
            probs, temps, chosen = ve.nested(
                xh, labels, np.asarray(speakers), corpus, classes, space, cfg.folds,
                cfg.inner_folds, cfg.workers,
            )  # fmt: skip
            advance()
        else:
            grid = cfg.c_grid_population if head == "population" else cfg.c_grid_speaker
            probs, temps, classes, chosen = nested_cross_validate(
                xh, labels, speakers, cfg, grid, progress(f"nested cv {head}", cfg.folds)
            )
        out[head] = head_report(probs, temps, classes, chosen, rows, cfg)
        oof[head] = (probs[cfg.variants.index("clean")], temps)
    if len({r.corpus for r in rows}) > 1:
        out["leave_one_corpus_out"] = loco_report(x, rows, cfg)
    out["calls"] = simulate(
        x,
        rows,
        cfg,
        oof["population"],
        [c["c"] for c in out["speaker"]["selection"]],
        [c["temperature"] for c in out["speaker"]["selection"]],
        progress("simulated calls", cfg.folds),
    )
    return out


def head_report(
    probs: np.ndarray,
    temps: np.ndarray,
    classes: list[str],
    chosen: list[dict[str, Any]],
    rows: list[Row],
    cfg: TrainConfig,
) -> dict[str, Any]:
    """One head's nested out-of-fold scores -> figures per test variant, group, calibration."""
    truth = np.asarray([r.emotion for r in rows], dtype=object)
    scored = np.isin(truth, cfg.classes)
    corpus = [r.corpus for r in rows]
    sex = [r.gender for r in rows]
    y_idx = np.asarray([classes.index(t) if t in classes else -1 for t in truth])
    rep: dict[str, Any] = {"selection": chosen}
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
    clean = softmax(z)
    # Each outer fold's scores divided by the temperature its inner folds fitted (nested).
    cal = softmax(z / temps[scored][:, None])
    rep["calibration"] = {
        "ece_raw": vm.ece(clean, y_idx[scored]),
        "ece_inner_temperature": vm.ece(cal, y_idx[scored]),
        "inner_temperatures": [c["temperature"] for c in chosen],
    }
    rep["confusion"] = {
        "labels": classes,
        "matrix": vm.confusion(
            truth[scored], np.asarray(classes, dtype=object)[clean.argmax(axis=1)], classes
        ),
    }
    return rep


def loco_report(x: np.ndarray, rows: list[Row], cfg: TrainConfig) -> dict[str, Any]:
    """Leave one corpus out (population head): train on the other corpora, every choice made
    by inner speaker folds there, score every clip of the left-out corpus (clean and telephone
    band) on the classes both sides share. Stands in for a corpus never seen."""
    corpus = np.asarray([r.corpus for r in rows], dtype=object)
    truth = np.asarray([r.emotion for r in rows], dtype=object)
    speakers = np.asarray([r.speaker or f"row{i}" for i, r in enumerate(rows)], dtype=object)
    xg = gain_invariant(x)
    tests = [v for v in ("clean", "phone") if v in cfg.variants]
    out: dict[str, Any] = {}
    for held in sorted(set(corpus.tolist())):
        tr = np.flatnonzero(corpus != held)
        labels = training_labels(list(truth[tr]), cfg)
        classes = sorted(c for c in cfg.classes if np.any(labels == c))
        te = np.flatnonzero((corpus == held) & np.isin(truth, classes))
        if not len(te) or len(set(speakers[tr].tolist())) < 2:
            continue
        rep: dict[str, Any] = {"trained_on": sorted(set(corpus[tr].tolist()))}
        if cfg.population == "ensemble":
            tr, labels = tr[labels != ""], labels[labels != ""]
            space = ve.Space(seed=cfg.seed)
            rec = ve.choose(xg[:, tr], labels, speakers[tr], corpus[tr], classes, space)
            rep.update(choice=ve.describe(rec.summary()), temperature=rec.temperature)
            zs = {v: ve.scores(rec, xg[cfg.variants.index(v), te], classes) for v in tests}
        else:
            sel = select_c(
                xg[:, tr], labels, speakers[tr], cfg, cfg.c_grid_population, cfg.inner_folds,
                classes,
            )  # fmt: skip
            clf = fit(xg[:, tr], labels, cfg, sel.c)
            rep.update(choice=f"SVM C={sel.c:g}", c=sel.c, temperature=sel.temperature)
            rep["inner_uar_by_c"] = sel.uar_by_c
            zs = {v: logits(clf, xg[cfg.variants.index(v), te]) for v in tests}
        y_idx = np.asarray([classes.index(t) for t in truth[te]])
        for name, z in zs.items():
            pred = np.asarray(classes, dtype=object)[z.argmax(axis=1)]
            rep[name] = {
                **vm.scores(truth[te], pred, classes),
                "by_sex": vm.by_group(truth[te], pred, [rows[i].gender for i in te], classes),
            }
            if name == "clean":
                rep[name]["ece"] = vm.ece(softmax(z, rep["temperature"]), y_idx)
        out[held] = rep
    return out


def final_selection(
    x: np.ndarray, rows: list[Row], cfg: TrainConfig, progress: Progress
) -> tuple[dict[str, Any], ve.Recipe | None]:
    """C and temperature of each shipped head: speaker folds over all training speakers.

    The temperature (log-loss fit on those out-of-fold scores) ships only where it also lowers
    their calibration error; the reported calibration is the nested one (``cv_report``). The
    ensemble population head is chosen (and fitted) by ``voice_ensemble.choose`` with the
    nested report's inner folds, so the nested figure measures the shipped procedure."""
    labels = training_labels([r.emotion for r in rows], cfg)
    speakers = np.asarray([r.speaker or f"row{i}" for i, r in enumerate(rows)], dtype=object)
    classes = sorted(c for c in cfg.classes if np.any(labels == c))
    use = labels != ""
    y = np.asarray([classes.index(t) for t in labels[use]])
    out: dict[str, Any] = {}
    advance = progress("choose C", 2)
    recipe = None
    for head, (xh, _) in head_inputs(x, [r.speaker for r in rows]).items():
        if head == "population" and cfg.population == "ensemble":
            corpus = np.asarray([r.corpus for r in rows], dtype=object)
            recipe = ve.choose(
                xh[:, use], labels[use], speakers[use], corpus[use], classes,
                ve.Space(seed=cfg.seed), cfg.inner_folds,
            )  # fmt: skip
            summary = recipe.summary()
            out[head] = {**summary, "choice": ve.describe(summary)}
            advance()
            continue
        grid = cfg.c_grid_population if head == "population" else cfg.c_grid_speaker
        sel = select_c(xh, labels, speakers, cfg, grid, cfg.folds, classes)
        z = sel.oof[0][use]
        ece_raw, ece_t = vm.ece(softmax(z), y), vm.ece(softmax(z, sel.temperature), y)
        out[head] = {
            "c": sel.c,
            "uar_by_c": sel.uar_by_c,
            "temperature_nll": sel.temperature,
            "ece_raw": ece_raw,
            "ece_temperature": ece_t,
            "temperature": sel.temperature if ece_t < ece_raw else 1.0,
        }
        advance()
    return out, recipe


def train(
    sources: Sequence[Source],
    out_dir: Path,
    cfg: TrainConfig,
    progress: Progress,
    cv: bool = True,
    cache: Path | None = None,
    command: str = "",
    card: Callable[[dict[str, Any]], str] | None = None,
    declared: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Features, cross-validation, final fit; writes the artifact. ``declared``: the data
    licence fields (``own_data.declaration``) for meta.json and the card."""
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
        "declared": declared or {},
    }
    if cv:
        report["cv"] = cv_report(x, rows, cfg, progress)
    labels = training_labels([r.emotion for r in rows], cfg)
    report["selection"], recipe = final_selection(x, rows, cfg, progress)
    inputs = head_inputs(x, [r.speaker for r in rows])
    advance = progress("final fit", 2)
    heads: dict[str, Any] = {}
    for head, (xh, _) in inputs.items():
        heads[head] = (
            recipe
            if head == "population" and recipe
            else fit(xh, labels, cfg, report["selection"][head]["c"])
        )
        advance()
    temps = {h: report["selection"][h]["temperature"] for h in heads}
    classes = [str(c) for c in heads["speaker"].classes_]
    report["train_seconds"] = round(time.time() - t0, 1)
    meta = {
        "version": time.strftime("%Y%m%d"),
        "classes": classes,
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
        **(declared or {}),
    }
    cal = report.get("cv", {}).get("calls", {}).get("blend_calibration", {})
    if "temperature" in cal:  # without cross-validation there are no calls to fit it on
        meta["blend"] = {
            "temperature": cal["temperature"],
            "fitted_on": "the blended readings of the simulated calls (log-loss)",
        }
    # Content hashes of every training clip, so that `attune eval voice` can report overlap.
    meta["training_clips"] = {
        "hash": "sha256 of the audio file's bytes, first 16 hex digits",
        "n": len(rows),
        "sha256_16": sorted({file_hash(root, r.path) for r, root in zip(rows, roots, strict=True)}),
    }
    text = card(report) if card else f"# voice-emotion (retrained)\n\nCommand: `{command}`\n"
    write_artifact(out_dir, heads, inputs["speaker"][1], meta, text)
    return report
