"""Training helpers that need no PyTorch: duplicates, hold-out split, temperature scaling, ECE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune_training.face_data import (
    ece,
    fit_temperature,
    load_split,
    same_as,
    softmax,
    split_calibration,
    usable_train,
)


def _faces(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def test_training_rows_identical_to_a_dev_face_are_dropped() -> None:
    train, dev = _faces(50, 0), _faces(10, 1)
    train[[3, 17, 40]] = dev[[0, 5, 5]]  # two dev faces, one of them twice
    near = dev[9].copy()
    near[0, 0] ^= 1  # one grey level off: not a duplicate
    train[22] = near
    assert np.flatnonzero(same_as(train, dev)).tolist() == [3, 17, 40]
    keep = usable_train(train, np.zeros(50, np.int64), dev)
    assert len(keep) == 47 and not {3, 17, 40} & set(keep.tolist()) and 22 in keep
    assert len(usable_train(train, np.zeros(50, np.int64), None)) == 50


def test_holdout_faces_are_not_trained_on_under_another_row() -> None:
    images, labels = _faces(200, 2), np.repeat(np.arange(4), 50)
    images[100:120] = images[0:20]  # twenty faces filed twice (same class ids differ)
    train, cal = split_calibration(labels, 0.2, seed=1, images=images)
    assert len(np.intersect1d(train, cal)) == 0
    assert not same_as(images[train], images[cal]).any()
    plain_train, plain_cal = split_calibration(labels, 0.2, seed=1)
    assert np.array_equal(cal, plain_cal) and len(train) < len(plain_train)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    probs = np.tile([[0.75, 0.25]], (400, 1))
    labels = np.array([0, 0, 0, 1] * 100)
    assert ece(probs, labels) == pytest.approx(0.0, abs=1e-9)
    assert ece(np.tile([[1.0, 0.0]], (400, 1)), labels) == pytest.approx(0.25)
    assert np.allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


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
