"""The population head's ensemble: balancing, nested choices, one ONNX graph the runtime runs.

Synthetic feature vectors only (no audio, no corpora): three "emotions" move a few features,
two "corpora" shift others, as a corpus's microphone would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from attune.signals.voice.features import N_FEATURES
from attune_training import voice_ensemble as ve
from attune_training.voice_ensemble_onnx import to_onnx_model

CLASSES = ["anger", "neutral", "sad"]


def _data(n_spk: int = 6, per: int = 18, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = np.tile(np.repeat(CLASSES, per // 3), n_spk)
    spk = np.repeat([f"s{i}" for i in range(n_spk)], per).astype(object)
    corpus = np.where(np.repeat(np.arange(n_spk), per) % 2 == 0, "a", "b")
    x = rng.normal(size=(2, len(y), N_FEATURES)).astype(np.float32)
    sign = (y == "anger") * 1.0 - (y == "sad") * 1.0
    x[:, :, :4] += 1.5 * sign[None, :, None]  # the emotion: pitch/loudness-like features
    x[:, :, 70:90] += 3.0 * (corpus == "b")[None, :, None]  # the corpus: mel-band offsets
    return x, y, spk, corpus


def test_balance_weights_give_every_corpus_class_cell_the_same_weight() -> None:
    y = np.array(["anger"] * 6 + ["sad"] * 2 + ["anger"] * 1 + ["sad"] * 3)
    corpus = np.array(["big"] * 8 + ["small"] * 4)
    w = ve.balance_weights(y, corpus)
    assert w.mean() == pytest.approx(1.0)
    cells = {(c, t): w[(corpus == c) & (y == t)].sum() for c in ("big", "small") for t in set(y)}
    assert np.allclose(list(cells.values()), next(iter(cells.values())))


def test_weight_grid_sums_to_one_and_tries_the_even_mix_first() -> None:
    grid = ve._weight_grid(3)
    assert all(sum(w) == pytest.approx(1.0) for w in grid)
    assert len(grid) == 15 and (1.0, 0.0, 0.0) in grid
    assert np.var(grid[0]) == min(np.var(g) for g in grid)


def test_choose_learns_the_emotion_and_scores_unseen_speakers() -> None:
    x, y, spk, corpus = _data()
    train = spk != "s5"
    rec = ve.choose(x[:, train], y[train], spk[train], corpus[train], CLASSES, ve.Space(), 3)
    assert rec.features in ve.FEATURE_SETS and sum(rec.weights) == pytest.approx(1.0)
    assert rec.inner_uar > 0.8  # chance is 0.33
    assert {k.split("/")[0] for k in rec.inner_table} == set(ve.FEATURE_SETS)  # all were tried
    z = ve.scores(rec, x[0, ~train], CLASSES)
    assert ve.uar_of(z, y[~train], CLASSES) > 0.8


def test_nested_chooses_without_the_scored_speakers(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y, spk, corpus = _data()
    seen: list[set[str]] = []
    real = ve.choose

    def spy(x_: np.ndarray, y_: np.ndarray, spk_: np.ndarray, *a: Any, **k: Any) -> ve.Recipe:
        seen.append(set(spk_.tolist()))
        return real(x_, y_, spk_, *a, **k)

    monkeypatch.setattr(ve, "choose", spy)
    space = ve.Space(feature_sets=("no_mel",), kinds=("logreg",), grids={"logreg": (0.1,)})
    z, temps, chosen = ve.nested(x, y, spk, corpus, CLASSES, space, folds=3, inner_folds=2)
    assert len(seen) == len(chosen) == 3
    folds = ve.speaker_folds(spk, 3)
    for used, (_, te) in zip(seen, folds, strict=True):
        assert not used & set(spk[te].tolist())  # no choice saw a scored speaker
    assert z.shape == (2, len(y), 3) and np.all(temps > 0)
    assert ve.uar_of(z[0], y, CLASSES) > 0.5  # chance 0.33, one small linear member


def test_onnx_graph_matches_the_ensemble_and_loads_in_the_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime as ort

    from attune.signals.voice.emotion import EmotionModel
    from attune.signals.voice.features import gain_invariant
    from attune_training.voice_train import TrainConfig, fit, write_artifact

    x, y, _, corpus = _data()
    xg = gain_invariant(x)
    rec = ve.Recipe("no_mel_mean", ["svm", "logreg", "trees"], [1.0, 0.1, 30.0], [1.3, 1.1, 0.4],
                    [0.5, 0.25, 0.25], temperature=0.9)  # fmt: skip
    rec = ve.refit(rec, xg, y, ve.balance_weights(y, corpus), 0)
    graph = to_onnx_model(rec, CLASSES)
    sess = ort.InferenceSession(graph.SerializeToString())
    labels, got = sess.run(None, {"input": xg[0]})  # skl2onnx's order: label first
    np.testing.assert_allclose(got, ve.scores(rec, xg[0], CLASSES), atol=1e-4)
    assert list(labels) == [CLASSES[i] for i in got.argmax(axis=1)]

    spk_head = fit(x, y.astype(object), TrainConfig(classes=tuple(CLASSES)), 1.0)
    meta = {
        "version": "test",
        "classes": CLASSES,
        "heads": {
            "population": {"file": "model.onnx", "output": "scores", "temperature": 0.9},
            "speaker": {"file": "model_spk.onnx", "output": "scores", "temperature": 1.0},
        },
    }
    out = tmp_path / "voice-ens"
    write_artifact(out, {"population": rec, "speaker": spk_head}, x[0].mean(0), meta, "card\n")
    assert json.loads((out / "labels.json").read_text()) == CLASSES
    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(tmp_path))
    model = EmotionModel("voice-ens")
    probs = model.population_probs(x[0, :5])  # the runtime applies gain_invariant itself
    z = ve.scores(rec, xg[0, :5], CLASSES) / 0.9
    want = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(probs, want / want.sum(1, keepdims=True), atol=1e-4)
