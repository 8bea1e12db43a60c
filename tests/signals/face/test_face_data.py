"""Training helpers that need no PyTorch: calibration split and temperature scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune_training.face_data import fit_temperature, load_split, split_calibration


def test_calibration_split_is_stratified_disjoint_and_seeded() -> None:
    labels = np.repeat(np.arange(7), [400, 40, 400, 700, 480, 310, 500])
    train, cal = split_calibration(labels, 0.05, seed=3)
    assert len(np.intersect1d(train, cal)) == 0 and len(train) + len(cal) == len(labels)
    counts = np.bincount(labels[cal], minlength=7)
    assert counts[1] == 2 and counts[3] == 35  # 5 % of each class
    again_train, again_cal = split_calibration(labels, 0.05, seed=3)
    assert np.array_equal(cal, again_cal) and np.array_equal(train, again_train)


def test_temperature_is_recovered() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(6000, 7))
    true_t = 2.0
    p = np.exp(logits / true_t)
    p /= p.sum(1, keepdims=True)
    labels = np.array([rng.choice(7, p=row) for row in p])
    assert abs(fit_temperature(logits, labels) - true_t) < 0.15


def test_load_split_checks_shape(tmp_path: Path) -> None:
    np.savez(tmp_path / "train.npz", images=np.zeros((3, 40, 40), np.uint8), labels=np.zeros(3))
    with pytest.raises(ValueError, match="48"):
        load_split(tmp_path / "train.npz")
