"""Scores used by ``attune eval voice`` and the model card, checked against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune_training import voice_metrics as vm
from attune_training.voice_data import DataError, canonical, read_table


def test_uar_is_mean_recall_and_differs_from_accuracy() -> None:
    truth = ["anger"] * 8 + ["sad"] * 2
    pred = ["anger"] * 8 + ["anger", "sad"]
    s = vm.scores(truth, pred, ["anger", "sad", "fear"])
    assert s["accuracy"] == 0.9
    assert s["uar"] == pytest.approx((1.0 + 0.5) / 2)  # fear is absent: not averaged in
    assert s["per_class_recall"] == {"anger": 1.0, "sad": 0.5}
    f1_anger = 2 * (8 / 9) * 1.0 / (8 / 9 + 1.0)
    f1_sad = 2 * 1.0 * 0.5 / 1.5
    assert s["macro_f1"] == pytest.approx((f1_anger + f1_sad) / 2, abs=1e-4)
    assert vm.confusion(truth, pred, ["anger", "sad"]) == [[8, 0], [1, 1]]


def test_group_breakdown() -> None:
    out = vm.by_group(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["f", "f", "m", ""], ["a", "b"])
    assert out == {
        "f": {"n": 2, "error_rate": 0.5, "uar": 0.5},
        "m": {"n": 1, "error_rate": 0.0, "uar": 1.0},
    }
    sexes = vm.by_group(
        ["a", "a", "b", "b"], ["a", "b", "b", "b"], ["female"] * 2 + ["male"] * 2, ["a", "b"]
    )
    assert vm.sex_gap(sexes) == 0.5  # female UAR 0.5 (one of two a right), male 1.0
    assert vm.sex_gap({"female": sexes["female"]}) is None  # one sex alone: no gap


def test_temperature_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (4000, 4))
    p = np.exp(z / 2.0)
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    assert vm.fit_temperature(z, y) == pytest.approx(2.0, rel=0.1)
    calibrated = np.exp(z / 2.0) / np.exp(z / 2.0).sum(axis=1, keepdims=True)
    assert vm.ece(calibrated, y) < vm.ece(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), y)


def test_label_spellings_and_table_errors(tmp_path: Path) -> None:
    assert canonical(" Angry ") == "anger" and canonical("fearful") == "fear"
    assert canonical("calm") == "calm" and canonical("bored") == "boredom"
    good = tmp_path / "t.csv"
    good.write_text("path,emotion,actor\na.wav,ANGRY,07\n")
    (row,) = read_table(good, corpus="x")
    assert (row.emotion, row.speaker, row.corpus) == ("anger", "07", "x")
    empty = tmp_path / "e.csv"
    empty.write_text("path,emotion\n,anger\n")
    with pytest.raises(DataError, match="line 2"):
        read_table(empty)
