"""The fresh-folds comparison of two voice training procedures: shuffled speaker folds, the
paired bootstrap and the fixed decision rule. Synthetic feature vectors only (no corpora)."""

from __future__ import annotations

import numpy as np
import pytest

from attune.signals.voice.features import N_FEATURES
from attune_training import voice_compare as vc
from attune_training.voice_metrics import speaker_folds

CLASSES = ["anger", "neutral", "sad"]


def _dataset(n_spk: int = 10, per: int = 12) -> vc.Dataset:
    rng = np.random.default_rng(0)
    y = np.tile(np.repeat(CLASSES, per // 3), n_spk).astype(object)
    idx = np.repeat(np.arange(n_spk), per)
    x = rng.normal(size=(3, len(y), N_FEATURES)).astype(np.float32)
    x[:, :, :4] += 1.5 * ((y == "anger") * 1.0 - (y == "sad") * 1.0)[None, :, None]
    return vc.Dataset(
        x=x,
        variants=("clean", "phone", "noise"),
        labels=y,
        speakers=np.asarray([f"s{i}" for i in idx], dtype=object),
        corpus=np.where(idx < n_spk // 2, "a", "b").astype(object),
        sex=np.where(idx % 2 == 0, "female", "male").astype(object),
        classes=CLASSES,
    )


def test_seeded_speaker_folds_are_fresh_equal_sized_and_disjoint() -> None:
    spk = np.repeat([f"s{i}" for i in range(25)], 4).astype(object)
    a, b = speaker_folds(spk, 5, seed=101), speaker_folds(spk, 5, seed=102)
    held = [frozenset(spk[te]) for _, te in a]
    assert all(len(h) == 5 for h in held) and frozenset().union(*held) == set(spk)
    assert all(not set(spk[tr]) & set(spk[te]) for tr, te in a)
    assert held != [frozenset(spk[te]) for _, te in b]
    assert held == [frozenset(spk[te]) for _, te in speaker_folds(spk, 5, seed=101)]


def test_compare_reports_both_procedures_and_applies_the_rule() -> None:
    d = _dataset()
    rep = vc.compare(d, ("clean", "phone"), ("clean", "phone", "noise"), (1, 2), grid=(1.0,))
    for name in ("A", "B"):
        assert rep[name]["mean"]["uar"] > 0.7  # chance is 0.33
        assert set(rep[name]["loco"]) == {"a", "b", "mean"}
    boot = rep["paired_b_minus_a"]["clean"]
    assert boot["lo"] <= boot["diff"] <= boot["hi"]
    assert isinstance(rep["decision"]["ship_b"], bool)


def test_decision_rule_needs_all_three_conditions() -> None:
    a = {"mean": {"uar": 0.632, "gap": 0.07}, "loco": {"mean": 0.35}}
    b = {"mean": {"uar": 0.628, "gap": 0.01}, "loco": {"mean": 0.40}}
    assert vc.decide(a, b)["ship_b"]  # 0.004 lower is within the margin
    assert not vc.decide(a, {**b, "mean": {"uar": 0.626, "gap": 0.01}})["ship_b"]
    assert not vc.decide(a, {**b, "mean": {"uar": 0.64, "gap": 0.07}})["ship_b"]
    assert not vc.decide(a, {**b, "loco": {"mean": 0.35}})["ship_b"]
    with pytest.raises(ValueError):
        _dataset().take(("phone", "clean"))
