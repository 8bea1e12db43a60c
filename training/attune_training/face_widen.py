"""Widen a trained expression net without changing what it computes (training only).

A later stage can then continue from the trained net with more channels per layer
(``face_train --init wide.pt --width W``) instead of training the wider net from scratch.

Each conv keeps its trained channels; the new output channels get fresh random weights from
every input channel, and no old channel reads a new one (those weights start at zero). The
head reads nothing from the new channels at first either. So in eval mode the widened net's
logits equal the trained net's, and the new channels, being random rather than copies, start
out different from the old ones and from each other: training has something new to shape.

    python -m attune_training.face_widen --ckpt v5_recovered.pt --width 64 --out wide.pt
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import torch

from attune_training.face_net import ExpressionNet


def widen(net: ExpressionNet, width: int, seed: int = 0) -> ExpressionNet:
    """A net of ``width`` whose eval-mode function is ``net``'s (see the module docstring)."""
    old_width = net.head.in_features // 8
    if width < old_width:
        raise ValueError(f"width {width} is narrower than the trained net's {old_width}")
    torch.manual_seed(seed)
    wide = ExpressionNet(width, n_classes=net.head.out_features, dropout=net.dropout.p)
    with torch.no_grad():
        for (conv, bn), (wconv, wbn) in zip(net.conv_layers(), wide.conv_layers(), strict=True):
            cout, cin = conv.weight.shape[:2]
            wconv.weight[:cout].zero_()  # old channels ignore the new inputs
            wconv.weight[:cout, :cin] = conv.weight
            # The new output channels keep ExpressionNet's own random initialisation.
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(wbn, name)[:cout] = getattr(bn, name)
            assert wbn.num_batches_tracked is not None and bn.num_batches_tracked is not None
            wbn.num_batches_tracked.copy_(bn.num_batches_tracked)
        wide.head.weight.zero_()
        wide.head.weight[:, : net.head.in_features] = net.head.weight
        wide.head.bias.copy_(net.head.bias)
    return wide


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint from face_train or face_recover")
    p.add_argument("--width", type=int, required=True, help="the wider net's base width")
    p.add_argument("--out", required=True, help="widened checkpoint (.pt)")
    p.add_argument("--seed", type=int, default=0, help="seed of the new channels' weights")
    args = p.parse_args(argv)
    ckpt: dict[str, Any] = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    net = ExpressionNet(int(ckpt["width"]))
    net.load_state_dict(ckpt["state"])
    wide = widen(net, args.width, args.seed)
    out = {
        **{k: v for k, v in ckpt.items() if k in ("history", "args", "epochs", "recovered_from")},
        "state": {k: v.detach().clone() for k, v in wide.state_dict().items()},
        "width": args.width,
        "widened_from": {"ckpt": args.ckpt, "width": int(ckpt["width"]), "seed": args.seed},
    }
    torch.save(out, args.out)
    print(json.dumps({"width": args.width, "from_width": ckpt["width"], "out": args.out}))


if __name__ == "__main__":
    main()
