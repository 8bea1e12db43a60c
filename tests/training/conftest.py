"""Shared pieces of the training tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def _net_with_folding_statistics(width: int = 8, seed: int = 0, affine: bool = True) -> Any:
    """A small expression net whose BatchNorm statistics (and, with ``affine``, scales and
    shifts) differ from the defaults, so that folding them into the convs matters (torch is
    imported only here)."""
    import torch

    from attune_training.face_net import ExpressionNet

    torch.manual_seed(seed)
    net = ExpressionNet(width)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                if affine:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
    return net


@pytest.fixture(scope="session")
def folded_net() -> Callable[..., Any]:
    return _net_with_folding_statistics


def drawn_face(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 48×48 grey cartoon face whose brows, eyes and mouth follow the FER class (0 angry,
    1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral); mirror-symmetric like the
    augmentation assumes."""
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    cx, cy = 24 + rng.uniform(-2, 2), 24 + rng.uniform(-2, 2)
    img = np.full((48, 48), 40.0, np.float32)
    img[((xx - cx) / 17) ** 2 + ((yy - cy) / 21) ** 2 <= 1] = 150.0
    eye = 4.0 if label in (2, 5) else 2.0  # fear, surprise: wide eyes
    lift = 4.0 if label in (2, 5) else 0.0  # ... and raised brows
    slope = {0: -0.5, 2: 0.4, 4: 0.4}.get(label, 0.0)  # angry: inner ends down; sad, fear: up
    for side in (-7, 7):
        img[(xx - cx - side) ** 2 + (yy - cy + 5) ** 2 <= eye**2] = 20.0
        brow = cy - 10 - lift + slope * np.sign(side) * (xx - cx - side)
        img[(np.abs(xx - cx - side) <= 4) & (np.abs(yy - brow) <= 0.8)] = 30.0
    mx = xx - cx
    curve = {3: -0.06, 4: 0.06, 0: 0.02}.get(label, 0.0)  # happy smiles, sad frowns
    mouth = cy + 9 + curve * (mx**2 - 36) + (1.5 * np.sin(mx / 1.5) if label == 1 else 0.0)
    if label in (2, 5):  # an open mouth: round (surprise) or wide (fear)
        r = 3.5 if label == 5 else 2.0
        img[(mx / (r + 3 * (label == 2))) ** 2 + ((yy - cy - 9) / r) ** 2 <= 1] = 10.0
    else:
        img[(np.abs(mx) <= 7) & (np.abs(yy - mouth) <= 1.0)] = 10.0
    img = (img + rng.normal(0, 12, img.shape)) * rng.uniform(0.8, 1.2)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def own_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train.npz (40 faces a class) and dev.npz (10 a class), in the FER-2013 npz format."""
    root = tmp_path_factory.mktemp("ownfaces")
    for split, n, seed in (("train", 40, 1), ("dev", 10, 2)):
        rng = np.random.default_rng(seed)
        labels = np.repeat(np.arange(7), n)
        images = np.stack([drawn_face(int(k), rng) for k in labels])
        np.savez(root / f"{split}.npz", images=images, labels=labels)
    return root
