"""The expression network and its on-batch augmentation (training only; imports PyTorch).

A compact VGG-style CNN for 48×48 grey faces: four stages of two 3×3 conv + BN + ReLU, max-pool
between stages, global average pooling, dropout, one linear layer. Small enough to train on two
shared CPU cores and to classify thousands of faces per second with onnxruntime.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

# FER-2013 grey levels over the training split; baked into the exported graph.
MEAN, STD = 0.5081, 0.2057


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ExpressionNet(nn.Module):
    """Stem conv at full resolution, then VGG-style stages at 1/2, 1/4, 1/8 and 1/16 of it.

    Convolutional all the way to a global average pool, so it trains at a lower resolution
    first (cheaper epochs) and finishes at 48×48.
    """

    def __init__(self, width: int = 32, n_classes: int = 7, dropout: float = 0.3) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _conv(1, w),
            nn.MaxPool2d(2),
            _conv(w, w),
            _conv(w, 2 * w),
            nn.MaxPool2d(2),
            _conv(2 * w, 2 * w),
            _conv(2 * w, 4 * w),
            nn.MaxPool2d(2),
            _conv(4 * w, 4 * w),
            _conv(4 * w, 8 * w),
            nn.MaxPool2d(2),
            _conv(8 * w, 8 * w),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(8 * w, n_classes)

    def conv_layers(self) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
        """Each conv with its BatchNorm, in order (what recovery and widening rewrite)."""
        return [
            (cast(nn.Conv2d, m[0]), cast(nn.BatchNorm2d, m[1]))
            for m in self.features
            if isinstance(m, nn.Sequential)
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, 1, H, W) float in [0, 1] (H = W = 48 at run time); returns logits."""
        x = (x - MEAN) / STD
        x = self.features(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.head(self.dropout(x))


class Deployed(nn.Module):
    """What gets exported: uint8-range input, flip-averaged, temperature-scaled probabilities."""

    kernel: torch.Tensor

    def __init__(
        self,
        net: ExpressionNet,
        temperature: float,
        flip: bool = True,
        size: int = 48,
        blur_sigma: float = 0.0,
    ) -> None:
        super().__init__()
        self.net = net
        self.temperature = float(temperature)
        self.flip = flip
        self.size = size  # the resolution the net last trained at (48 once training is done)
        # The training faces here are all Gaussian-blurred (σ ≈ 3 px at 48 px, measured);
        # sharp faces are blurred the same way first, so they look like what the net learnt.
        self.pad = 0
        if blur_sigma > 0:
            self.pad = math.ceil(3 * blur_sigma)
            t = torch.arange(-self.pad, self.pad + 1, dtype=torch.float32)
            k = torch.exp(-0.5 * (t / blur_sigma) ** 2)
            self.register_buffer("kernel", (k / k.sum()).view(1, 1, 1, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, 1, 48, 48) float32 grey levels 0..255 → (N, 7) probabilities."""
        x = x / 255.0
        if self.pad:
            p = self.pad  # separable Gaussian, reflected borders (as OpenCV's default)
            x = F.conv2d(F.pad(x, (p, p, 0, 0), mode="reflect"), self.kernel)
            x = F.conv2d(F.pad(x, (0, 0, p, p), mode="reflect"), self.kernel.transpose(2, 3))
        if self.size != 48:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        logits = self.net(x)
        if self.flip:
            logits = 0.5 * (logits + self.net(torch.flip(x, dims=[3])))
        return torch.softmax(logits / self.temperature, dim=1)


def augment(x: torch.Tensor, gen: torch.Generator, size: int = 48) -> torch.Tensor:
    """Random flip, rotation (±12°), scale (0.9–1.1), shift (±10 %) and erasing, on a batch;
    the output is resampled to ``size``×``size`` (progressive resizing)."""
    n = x.shape[0]
    dev = x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=gen, device=dev)

    angle = u(-12, 12) * math.pi / 180
    scale = u(0.9, 1.1)
    flip = torch.where(torch.rand(n, generator=gen, device=dev) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, u(-0.1, 0.1) * 2], 1),
            torch.stack([sin * flip, cos, u(-0.1, 0.1) * 2], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Random erasing: one rectangle (2–20 % of the area) in half of the images.
    area = u(0.02, 0.2) * size * size
    ratio = torch.exp(u(math.log(0.3), math.log(3.3)))
    h = torch.clamp((area * ratio).sqrt(), 1, size - 1).long()
    w = torch.clamp((area / ratio).sqrt(), 1, size - 1).long()
    top = (torch.rand(n, generator=gen, device=dev) * (size - h)).long()
    left = (torch.rand(n, generator=gen, device=dev) * (size - w)).long()
    rows = torch.arange(size, device=dev).view(1, size, 1)
    cols = torch.arange(size, device=dev).view(1, 1, size)
    box = (
        (rows >= top.view(-1, 1, 1))
        & (rows < (top + h).view(-1, 1, 1))
        & (cols >= left.view(-1, 1, 1))
        & (cols < (left + w).view(-1, 1, 1))
    )
    erase = (torch.rand(n, generator=gen, device=dev) < 0.5).view(-1, 1, 1) & box
    noise = torch.rand(out.shape, generator=gen, device=dev)
    return torch.where(erase.unsqueeze(1), noise, out)


def random_blur(x: torch.Tensor, gen: torch.Generator, max_sigma: float) -> torch.Tensor:
    """Half the batches get one extra Gaussian blur (σ up to ``max_sigma`` px at 48 px), so the
    net also copes with faces that reach it blurred twice (already soft, then the graph's blur)."""
    if max_sigma <= 0 or float(torch.rand(1, generator=gen)) < 0.5:
        return x
    sigma = (0.5 + (max_sigma - 0.5) * float(torch.rand(1, generator=gen))) * x.shape[-1] / 48
    pad = max(1, math.ceil(3 * sigma))
    t = torch.arange(-pad, pad + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).view(1, 1, 1, -1)
    x = F.conv2d(F.pad(x, (pad, pad, 0, 0), mode="reflect"), k)
    return F.conv2d(F.pad(x, (0, 0, pad, pad), mode="reflect"), k.transpose(2, 3))


def cutmix(
    x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """CutMix: paste one rectangle of a shuffled partner into each face; returns the mixed batch,
    the partners' labels and the share ``lam`` of each face that is still its own."""
    n, size = x.shape[0], x.shape[-1]
    perm = torch.randperm(n, generator=gen)
    lam = float(torch.rand(1, generator=gen))  # Beta(1, 1), as in the CutMix paper
    cut = math.sqrt(1 - lam)
    h = w = round(size * cut)
    if h == 0:
        return x, y, 1.0
    top = int(torch.randint(0, size - h + 1, (1,), generator=gen))
    left = int(torch.randint(0, size - w + 1, (1,), generator=gen))
    out = x.clone()
    out[:, :, top : top + h, left : left + w] = x[perm, :, top : top + h, left : left + w]
    return out, y[perm], 1 - (h * w) / (size * size)
