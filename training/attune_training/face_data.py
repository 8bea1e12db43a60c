"""Data helpers for the expression model that need only numpy: loading FER-2013 splits, the
stratified calibration hold-out and temperature scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (N, 48, 48) uint8 and ``labels`` (N,) in 0..6 from an npz; clear errors."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with np.load(path, allow_pickle=False) as data:
        if "images" not in data.files or "labels" not in data.files:
            raise ValueError(f"{path} must hold 'images' and 'labels' (has {data.files})")
        images, labels = data["images"], data["labels"].astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (48, 48) or images.dtype != np.uint8:
        raise ValueError(f"{path}: images must be N×48×48 uint8, got {images.shape} {images.dtype}")
    if len(labels) != len(images) or labels.min(initial=0) < 0 or labels.max(initial=0) > 6:
        raise ValueError(f"{path}: labels must be N values in 0..6")
    return images, labels


def split_calibration(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified indices (train, calibration): calibration fits the temperature, never dev."""
    rng = np.random.default_rng(seed)
    cal: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cal.append(idx[: max(1, round(share * len(idx)))])
    cal_idx = np.sort(np.concatenate(cal))
    train_idx = np.setdiff1d(np.arange(len(labels)), cal_idx)
    return train_idx, cal_idx


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood (grid then refine)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return float(-logp[np.arange(len(labels)), labels].mean())

    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 60))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.93, best * 1.07, 29)
    return float(min(fine, key=nll))
