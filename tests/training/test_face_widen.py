"""A widened expression net computes what the trained one did, and its new channels can learn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from attune_training.face_net import ExpressionNet
from attune_training.face_widen import main, widen


def _faces(n: int = 16, seed: int = 3) -> torch.Tensor:
    return torch.rand(n, 1, 48, 48, generator=torch.Generator().manual_seed(seed))


def test_widening_keeps_the_eval_function(folded_net: Callable[..., ExpressionNet]) -> None:
    net = folded_net(width=8)
    wide = widen(net, 12, seed=1)
    assert wide.head.in_features == 96
    net.eval()
    wide.eval()
    with torch.no_grad():
        torch.testing.assert_close(wide(_faces()), net(_faces()), atol=1e-5, rtol=1e-5)


def test_the_new_channels_differ_and_take_gradients(
    folded_net: Callable[..., ExpressionNet],
) -> None:
    wide = widen(folded_net(width=8), 12, seed=1)
    first = wide.features[0][0].weight
    new = first[8:].reshape(4, -1)
    assert torch.cdist(new, new).masked_fill(torch.eye(4, dtype=torch.bool), 1.0).min() > 0
    wide.train()
    loss = torch.nn.functional.cross_entropy(wide(_faces()), torch.arange(16) % 7)
    loss.backward()
    assert wide.head.weight.grad is not None
    assert float(wide.head.weight.grad[:, 64:].abs().sum()) > 0  # the head starts reading them


def test_narrowing_is_refused(folded_net: Callable[..., ExpressionNet]) -> None:
    with pytest.raises(ValueError, match="narrower"):
        widen(folded_net(width=8), 4)


def test_the_command_writes_a_checkpoint_face_train_can_continue(
    tmp_path: Path, folded_net: Callable[..., ExpressionNet]
) -> None:
    net = folded_net(width=8)
    src, out = tmp_path / "narrow.pt", tmp_path / "wide.pt"
    torch.save({"state": net.state_dict(), "width": 8, "history": [{"epochs": 3}]}, src)
    main(["--ckpt", str(src), "--width", "12", "--out", str(out)])
    ckpt = torch.load(out, weights_only=False)
    assert ckpt["width"] == 12 and ckpt["history"] == [{"epochs": 3}]
    assert ckpt["widened_from"]["width"] == 8
    again = ExpressionNet(12)
    again.load_state_dict(ckpt["state"])  # the shape face_train --init --width 12 expects
