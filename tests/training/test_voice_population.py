"""Population-normalised features for the voice population head: each population's own mean
and spread, and a corpus shift that fools the shipped procedure but not the normalised one.
Synthetic feature vectors only (no corpora)."""

from __future__ import annotations

import numpy as np

from attune.signals.voice.features import N_FEATURES
from attune_training import voice_compare as vc
from attune_training import voice_population as vp

CLASSES = ["anger", "neutral", "sad"]


def _shifted(n_spk: int = 8, per: int = 12) -> vc.Dataset:
    """Two corpora whose features differ by a large offset and scale (channel, language), with
    the same class signal inside each."""
    rng = np.random.default_rng(0)
    y = np.tile(np.repeat(CLASSES, per // 3), n_spk).astype(object)
    idx = np.repeat(np.arange(n_spk), per)
    corpus = np.where(idx < n_spk // 2, "a", "b").astype(object)
    x = rng.normal(size=(2, len(y), N_FEATURES)).astype(np.float32)
    x[:, :, :24] += 1.5 * ((y == "anger") * 1.0 - (y == "sad") * 1.0)[None, :, None]
    b = corpus == "b"
    x[:, b] = x[:, b] * 3.0 + 4.0  # corpus b: another level and spread in every feature
    return vc.Dataset(
        x=x,
        variants=("clean", "phone"),
        labels=y,
        speakers=np.asarray([f"s{i}" for i in idx], dtype=object),
        corpus=corpus,
        sex=np.where(idx % 2 == 0, "female", "male").astype(object),
        classes=CLASSES,
    )


def test_each_population_is_standardised_by_its_own_rows() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 2.0, size=(2, 40, 3))
    groups = np.asarray(["a"] * 25 + ["b"] * 15, dtype=object)
    z = vp.standardise(x, groups)
    for g in ("a", "b"):
        part = z[:, groups == g]
        np.testing.assert_allclose(part.mean(axis=1), 0.0, atol=1e-9)
        np.testing.assert_allclose(part.std(axis=1), 1.0, atol=1e-5)


def test_a_corpus_shift_is_undone_across_corpora() -> None:
    d = _shifted()
    a = vp.loco(d, ("clean", "phone"), population=False, inner=2)
    b = vp.loco(d, ("clean", "phone"), population=True, inner=2)
    assert b["mean"] > 0.8  # the class signal, once each corpus is on its own scale
    assert b["mean"] > a["mean"] + 0.2


def test_a_nested_repeat_scores_every_row_once() -> None:
    d = _shifted()
    figures, preds = vp.nested_repeat(d, ("clean", "phone"), 7, True, folds=4, inner=2)
    assert all(set(p.tolist()) <= set(CLASSES) for p in preds.values())
    assert figures["uar"] > 0.8 and set(figures["by_corpus"]) == {"a", "b"}
