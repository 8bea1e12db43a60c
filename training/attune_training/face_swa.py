"""Stochastic weight averaging (SWA) for the expression network (training only).

Why: every stage continued from a trained net so far fitted the training faces better while its
hold-out loss rose; the best epoch was a lucky point on a noisy path. SWA (Izmailov et al.,
2018) trains on at a constant learning rate and averages the weights of many epochs, which
lands nearer the middle of the flat region those epochs wander in. The averaged weights are one
net of the same size, so the run-time cost does not change. BatchNorm statistics do not average
with the weights: they are recomputed on training faces (``torch.optim.swa_utils.update_bn``).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.optim.swa_utils import AveragedModel, update_bn

from attune_training.face_net import ExpressionNet, augment


def swa_lr_for(progress: float, lr: float, warmup: float = 0.03) -> float:
    """Constant learning rate after a short linear warm-up (the init is already trained)."""
    return lr * min(1.0, progress / warmup) if warmup > 0 else lr


def _batches(
    x_all: torch.Tensor, gen: torch.Generator, size: int, limit: int | None, batch: int = 256
) -> Iterator[torch.Tensor]:
    """Augmented training faces as the net saw them (no CutMix), in a random order."""
    order = torch.randperm(len(x_all), generator=gen)
    if limit is not None:
        order = order[:limit]
    for b in range(0, len(order), batch):
        yield augment(x_all[order[b : b + batch]], gen, size).contiguous(
            memory_format=torch.channels_last
        )


def averaged_net(
    swa: AveragedModel,
    width: int,
    x_all: torch.Tensor,
    gen: torch.Generator,
    size: int = 48,
    limit: int | None = None,
) -> ExpressionNet:
    """A plain ExpressionNet with the averaged weights and BatchNorm statistics recomputed on
    ``limit`` augmented training faces (all of them when None)."""
    net = ExpressionNet(width)
    net.load_state_dict(swa.module.state_dict())
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    with torch.no_grad():
        update_bn(_batches(x_all, gen, size, limit), net)
    net.eval()
    return net
