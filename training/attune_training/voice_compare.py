"""Two single-SVM training procedures (sets of augmentation variants) compared on fresh speaker
folds, with a decision rule fixed before the run.

Each procedure is scored by nested speaker folds (``voice_ensemble.nested`` with a single-SVM
space: C from a fixed grid, chosen by inner speaker folds inside each outer training part),
repeated over outer speaker assignments shuffled by seed, and by leave one corpus out
(``voice_ensemble.choose`` inside the training corpus). ``paired_bootstrap`` gives B - A paired
by speaker; ``decide`` applies the rule::

    python -m attune_training.voice_compare --data R.csv --data E.csv --cache FEATS.npz \\
        --seeds 101,102,103 --out compare.json

Rule (A = the shipped procedure, B = the candidate): ship B only if its mean clean nested UAR
over the repeats is at least A's minus ``margin`` (0.005), its mean per-sex gap
(|UAR female - UAR male|, clean) is smaller than A's and its leave-one-corpus-out mean UAR is
higher than A's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.voice.features import gain_invariant
from attune_training import voice_ensemble as ve
from attune_training import voice_metrics as vm
from attune_training.voice_data import DataError
from attune_training.voice_train import AUGMENTED, TrainConfig, training_labels

C_GRID = (0.3, 1.0, 3.0, 10.0)
SHIPPED_VARIANTS = ("clean", "phone", "noise", "speed")  # the shipped model's procedure (A)
TESTS = ("clean", "phone")  # how the held-out clips are scored


@dataclass
class Dataset:
    """Labelled rows only. x: (variants, rows, F) gain-invariant, in ``variants`` order."""

    x: np.ndarray
    variants: tuple[str, ...]
    labels: np.ndarray
    speakers: np.ndarray
    corpus: np.ndarray
    sex: np.ndarray
    classes: list[str]

    def take(self, variants: Sequence[str]) -> np.ndarray:
        if variants[0] != "clean":
            raise ValueError("the first variant must be clean (inner folds score it)")
        return self.x[[self.variants.index(v) for v in variants]]


def svm_space(grid: Sequence[float] = C_GRID) -> ve.Space:
    """One RBF SVM on all features, rows unweighted (as the shipped population head)."""
    return ve.Space(
        feature_sets=("all",), kinds=("svm",), grids={"svm": tuple(grid)}, balance_corpora=False
    )


def figures(d: Dataset, preds: dict[str, np.ndarray]) -> dict[str, Any]:
    """UAR clean (overall, per corpus), phone, per sex and the per-sex gap."""
    clean = preds["clean"]
    sex = vm.by_group(d.labels, clean, d.sex, d.classes)
    f, m = sex.get("female", {}).get("uar", 0.0), sex.get("male", {}).get("uar", 0.0)
    corp = vm.by_group(d.labels, clean, d.corpus, d.classes)
    return {
        "uar": vm.scores(d.labels, clean, d.classes)["uar"],
        "by_corpus": {k: v["uar"] for k, v in corp.items()},
        "phone": vm.scores(d.labels, preds["phone"], d.classes)["uar"],
        "female": f,
        "male": m,
        "gap": vm.sex_gap(sex) or 0.0,  # 0.0 where a sex is missing: nothing to compare
    }


def nested_repeat(
    d: Dataset,
    variants: Sequence[str],
    seed: int,
    folds: int = 5,
    inner_folds: int = 3,
    grid: Sequence[float] = C_GRID,
    workers: int = 1,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One repeat: outer speaker folds shuffled by ``seed``; figures and predictions per test."""
    xs = d.take(variants)
    z, _, chosen = ve.nested(
        xs, d.labels, d.speakers, d.corpus, d.classes, svm_space(grid), folds, inner_folds,
        workers, outer_seed=seed,
    )  # fmt: skip
    names = np.asarray(d.classes, dtype=object)
    preds = {t: names[z[list(variants).index(t)].argmax(axis=1)] for t in TESTS}
    c = [ch["members"][0]["param"] for ch in chosen]
    return {"seed": seed, "c": c, **figures(d, preds)}, preds


def loco(
    d: Dataset, variants: Sequence[str], inner_folds: int = 3, grid: Sequence[float] = C_GRID
) -> dict[str, Any]:
    """Train on all corpora but one (C by inner speaker folds there), score the left-out one."""
    xs = d.take(variants)
    out: dict[str, Any] = {}
    for held in sorted(set(d.corpus.tolist())):
        tr, te = d.corpus != held, d.corpus == held
        rec = ve.choose(
            xs[:, tr], d.labels[tr], d.speakers[tr], d.corpus[tr], d.classes, svm_space(grid),
            inner_folds,
        )  # fmt: skip
        uar = {}
        for t in TESTS:
            z = ve.scores(rec, xs[list(variants).index(t), te], d.classes)
            uar[t] = round(vm.uar_of(z, d.labels[te], d.classes), 4)
        out[held] = {"c": rec.params[0], **uar}
    out["mean"] = round(float(np.mean([v["clean"] for v in out.values()])), 4)
    return out


def paired_bootstrap(
    d: Dataset,
    preds_a: Sequence[np.ndarray],
    preds_b: Sequence[np.ndarray],
    n: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """B - A paired by speaker: UAR over the rows of resampled speakers (with repeats), mean
    over the repeats (one prediction array per repeat); percentile 95 % interval. Also how many
    speakers B scores better or worse (their own UAR, mean over the repeats)."""
    spk = sorted(set(d.speakers.tolist()))
    s_idx = np.asarray([spk.index(s) for s in d.speakers])
    y = np.asarray([d.classes.index(t) for t in d.labels])
    n_sc = np.zeros((len(spk), len(d.classes)))
    np.add.at(n_sc, (s_idx, y), 1.0)

    def hits(pred: np.ndarray) -> np.ndarray:
        h = np.zeros_like(n_sc)
        np.add.at(h, (s_idx, y), (pred == d.labels).astype(float))
        return h

    def uar(k: np.ndarray, h: np.ndarray) -> np.ndarray:  # k: (B, speakers) counts
        num, den = k @ h, k @ n_sc
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nanmean(np.where(den > 0, num / den, np.nan), axis=-1)

    ha, hb = [hits(p) for p in preds_a], [hits(p) for p in preds_b]

    def diff(k: np.ndarray) -> np.ndarray:
        return np.mean([uar(k, b) - uar(k, a) for a, b in zip(ha, hb, strict=True)], axis=0)

    rng = np.random.default_rng(seed)
    k = np.stack([np.bincount(rng.integers(0, len(spk), len(spk)), minlength=len(spk))
                  for _ in range(n)])  # fmt: skip
    boot = diff(k)
    per_spk = diff(np.eye(len(spk)))
    return {
        "diff": round(float(diff(np.ones((1, len(spk))))[0]), 4),
        "lo": round(float(np.percentile(boot, 2.5)), 4),
        "hi": round(float(np.percentile(boot, 97.5)), 4),
        "speakers_better": int(np.sum(per_spk > 1e-9)),
        "speakers_worse": int(np.sum(per_spk < -1e-9)),
        "resamples": n,
    }


def mean_of(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("uar", "phone", "female", "male", "gap")
    out: dict[str, Any] = {k: round(float(np.mean([r[k] for r in repeats])), 4) for k in keys}
    out["by_corpus"] = {
        c: round(float(np.mean([r["by_corpus"][c] for r in repeats])), 4)
        for c in repeats[0]["by_corpus"]
    }
    return out


def decide(a: dict[str, Any], b: dict[str, Any], margin: float = 0.005) -> dict[str, Any]:
    """The rule, on two procedures' summaries ({"mean": {uar, gap}, "loco": {"mean"}})."""
    checks = {
        "uar_not_worse": b["mean"]["uar"] >= a["mean"]["uar"] - margin,
        "gap_smaller": b["mean"]["gap"] < a["mean"]["gap"],
        "loco_higher": b["loco"]["mean"] > a["loco"]["mean"],
    }
    return {**checks, "margin": margin, "ship_b": all(checks.values())}


@dataclass(frozen=True)
class Arm:
    """One procedure under comparison: its nested figures and predictions for an outer seed,
    and its leave-one-corpus-out figures."""

    repeat: Callable[[int], tuple[dict[str, Any], dict[str, np.ndarray]]]
    loco: Callable[[], dict[str, Any]]


def run_arms(d: Dataset, a: Arm, b: Arm, seeds: Sequence[int], log: Any = None) -> dict[str, Any]:
    """Both arms on the same outer seeds: per arm the repeats, their mean and LOCO; then B - A
    paired by speaker."""
    rep: dict[str, Any] = {}
    preds: dict[str, dict[str, list[np.ndarray]]] = {}
    for name, arm in (("A", a), ("B", b)):
        runs, preds[name] = [], {t: [] for t in TESTS}
        for s in seeds:
            r, p = arm.repeat(s)
            runs.append(r)
            for t in TESTS:
                preds[name][t].append(p[t])
            if log:
                log(f"{name} seed {s}: {r}")
        lo = arm.loco()
        if log:
            log(f"{name} loco: {lo}")
        rep[name] = {"repeats": runs, "mean": mean_of(runs), "loco": lo}
    rep["paired_b_minus_a"] = {t: paired_bootstrap(d, preds["A"][t], preds["B"][t]) for t in TESTS}
    return rep


def compare(
    d: Dataset,
    variants_a: Sequence[str],
    variants_b: Sequence[str],
    seeds: Sequence[int] = (101, 102, 103),
    folds: int = 5,
    inner_folds: int = 3,
    grid: Sequence[float] = C_GRID,
    workers: int = 1,
    log: Any = None,
) -> dict[str, Any]:
    """Both procedures on the same repeats and corpora; figures, paired B - A, decision."""

    def arm(variants: Sequence[str]) -> Arm:
        return Arm(
            lambda s: nested_repeat(d, variants, s, folds, inner_folds, grid, workers),
            lambda: loco(d, variants, inner_folds, grid),
        )

    rep: dict[str, Any] = {"seeds": list(seeds), "folds": folds, "inner_folds": inner_folds,
                           "c_grid": list(grid)}  # fmt: skip
    rep.update(run_arms(d, arm(variants_a), arm(variants_b), seeds, log))
    rep["A"]["variants"], rep["B"]["variants"] = list(variants_a), list(variants_b)
    rep["decision"] = decide(rep["A"], rep["B"])
    return rep


def load(
    paths: Sequence[Path], cache: Path, workers: int, variants: tuple[str, ...] = AUGMENTED
) -> Dataset:
    """The CLI's features of ``variants`` (read from / saved to ``cache``), labelled rows."""
    from attune_training.voice_run import features, load_rows, sources_from

    cfg = TrainConfig(variants=variants, workers=workers)
    rows, roots = load_rows(sources_from(list(paths), None))
    x = features(rows, roots, cfg, cache, lambda name, total: lambda: None)
    labels = training_labels([r.emotion for r in rows], cfg)
    keep = labels != ""
    kept = [r for r, k in zip(rows, keep, strict=True) if k]
    return Dataset(
        x=gain_invariant(x)[:, keep],
        variants=cfg.variants,
        labels=labels[keep],
        speakers=np.asarray([r.speaker or f"row{i}" for i, r in enumerate(kept)], dtype=object),
        corpus=np.asarray([r.corpus for r in kept], dtype=object),
        sex=np.asarray([r.gender for r in kept], dtype=object),
        classes=sorted(c for c in cfg.classes if np.any(labels == c)),
    )


def parser(doc: str | None, seeds: str) -> argparse.ArgumentParser:
    """The options every fresh-folds comparison takes (data, feature cache, seeds, folds,
    workers, report file); a command adds the procedures it compares."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    ap.add_argument("--data", type=Path, action="append", required=True)
    ap.add_argument("--cache", type=Path, required=True, help="features .npz of the variants")
    ap.add_argument("--seeds", default=seeds, help="outer fold draws, comma-separated")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    return ap


def report(rep: dict[str, Any], out: Path) -> None:
    """Write the whole comparison to ``out``; print the paired difference and the decision."""
    out.write_text(json.dumps(rep, indent=1) + "\n")
    print(json.dumps({k: rep[k] for k in ("paired_b_minus_a", "decision")}), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    ap = parser(__doc__, "101,102,103")
    ap.add_argument("--variants-a", default=",".join(SHIPPED_VARIANTS))
    ap.add_argument("--variants-b", default=",".join(AUGMENTED))
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        d = load(args.data, args.cache, args.workers)
    except DataError as exc:  # a missing or malformed table: say which, no traceback
        sys.exit(f"error: {exc}")
    rep = compare(
        d, tuple(args.variants_a.split(",")), tuple(args.variants_b.split(",")),
        [int(s) for s in args.seeds.split(",")], args.folds, workers=args.workers,
        log=lambda m: print(m, flush=True),
    )  # fmt: skip
    report(rep, args.out)


if __name__ == "__main__":
    main()
