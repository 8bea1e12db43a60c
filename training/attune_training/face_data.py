"""Data helpers for the expression model that need only numpy: loading FER-2013 splits, the
stratified calibration hold-out and temperature scaling."""

from __future__ import annotations

import itertools
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


def image_keys(images: np.ndarray) -> np.ndarray:
    """One hashable key per image (its raw bytes): equal keys mean pixel-identical faces."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    return flat.view(np.dtype((np.void, flat.shape[1]))).ravel()


def same_as(images: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Boolean mask over ``images``: True where the face is pixel-identical to one of ``others``
    (FER-2013 has exact duplicates across its splits; such training rows must not be trained on
    when the other split's figure is reported)."""
    return np.isin(image_keys(images), image_keys(others))


def usable_train(
    images: np.ndarray, labels: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Indices of training rows to use: all, minus those pixel-identical to an ``exclude`` image."""
    keep = np.ones(len(labels), dtype=bool)
    if exclude is not None and len(exclude):
        keep &= ~same_as(images, exclude)
    return np.flatnonzero(keep)


def split_calibration(
    labels: np.ndarray, share: float, seed: int, images: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified indices (train, hold-out): the hold-out picks the epoch, the ensemble weights and
    the temperature, never dev. With ``images``, rows pixel-identical to a hold-out face are left
    out of the training part too, so the hold-out is really unseen."""
    rng = np.random.default_rng(seed)
    cal: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cal.append(idx[: max(1, round(share * len(idx)))])
    cal_idx = np.sort(np.concatenate(cal))
    train_idx = np.setdiff1d(np.arange(len(labels)), cal_idx)
    if images is not None:
        train_idx = train_idx[~same_as(images[train_idx], images[cal_idx])]
    return train_idx, cal_idx


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top class over ``bins`` equal-width confidence bins."""
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == labels[sel]).mean() - conf[sel].mean())
    return float(total)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


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
