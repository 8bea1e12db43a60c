"""Shared pieces of the training tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
