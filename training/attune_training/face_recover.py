"""Recover a trainable checkpoint from a shipped expression graph (training only).

The shipped ``model.onnx`` holds the net with each BatchNorm folded into its conv and the weights
stored as int8. This rebuilds an ``ExpressionNet`` whose eval-mode function is that graph's
(up to the int8 rounding of the weights), so a later stage can continue training from what
shipped (``face_train --init``) instead of from scratch.

Each folded conv (weight W, bias b) becomes conv(W) + BatchNorm with running mean μ and variance
σ² of W·x over a sample of training faces, γ = σ and β = μ + b. In eval mode that is W·x + b
exactly; in training mode the batch statistics are close to μ and σ², so the first steps start
from the shipped function rather than from a re-normalised one.

    python -m attune_training.face_recover --onnx model.onnx --data DIR --out v3.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from attune_training.face_data import load_split
from attune_training.face_net import ExpressionNet
from attune_training.onnx_float import dequantize


def _dequantized(model: Any) -> dict[str, np.ndarray]:
    """Every float initializer and every DequantizeLinear output of constant inputs (an int8
    graph's weights), by name, as float32."""
    from onnx import numpy_helper

    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = {k: v.astype(np.float32) for k, v in init.items() if v.dtype.kind == "f"}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in init:
            out[node.output[0]] = dequantize(node, init)
    return out


def _conv_params(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """(per conv in graph order: (weight, bias)), head weight, head bias."""
    import onnx

    model = onnx.load(str(path))
    values = _dequantized(model)
    source: dict[str, str] = {}  # an Identity's output -> the constant it copies
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in values:
            source[node.output[0]] = node.input[0]
            values[node.output[0]] = values[node.input[0]]
    convs: list[tuple[np.ndarray, np.ndarray]] = []
    seen: set[str] = set()
    head_w = head_b = None
    for node in model.graph.node:
        weight = source.get(node.input[1], node.input[1]) if node.op_type == "Conv" else ""
        if weight and weight not in seen:
            seen.add(weight)  # the flipped branch reuses the same weights
            convs.append((values[node.input[1]], values[node.input[2]]))
        elif node.op_type == "Gemm" and head_w is None:
            head_w, head_b = values[node.input[1]], values[node.input[2]]
    if head_w is None or head_b is None:
        raise ValueError(f"{path}: no classifier head found")
    return convs, head_w, head_b


def recover(onnx_path: Path, faces: np.ndarray) -> tuple[ExpressionNet, int]:
    """The net rebuilt from ``onnx_path``; ``faces`` (N, 48, 48) uint8 set the BatchNorm stats."""
    convs, head_w, head_b = _conv_params(onnx_path)
    width = int(convs[0][0].shape[0])
    net = ExpressionNet(width)
    layers = net.conv_layers()
    if len(layers) != len(convs):
        raise ValueError(f"{onnx_path}: {len(convs)} convs, the net has {len(layers)}")
    with torch.no_grad():
        for (conv, bn), (w, b) in zip(layers, convs, strict=True):
            assert bn.running_mean is not None and bn.running_var is not None
            if tuple(conv.weight.shape) != w.shape:
                raise ValueError(f"conv shape {w.shape} is not {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))
        net.head.weight.copy_(torch.from_numpy(head_w))
        net.head.bias.copy_(torch.from_numpy(head_b))
        # One pass for the conv outputs' statistics; re-expressing the BN with them keeps the
        # eval function unchanged (see the module docstring).
        stats: dict[int, torch.Tensor] = {}

        def keep(i: int) -> Any:
            def hook(_m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
                stats[i] = out.detach()

            return hook

        handles = [conv.register_forward_hook(keep(i)) for i, (conv, _bn) in enumerate(layers)]
        net.eval()
        x = torch.from_numpy(faces).float().unsqueeze(1) / 255.0
        net(x)
        for h in handles:
            h.remove()
        for i, (_conv, bn) in enumerate(layers):
            assert bn.running_mean is not None and bn.running_var is not None
            z = stats[i]
            mean, var = z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3)).clamp_min(1e-6)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var - bn.eps)
            bn.weight.copy_(var.sqrt())
            bn.bias.add_(mean)
    return net, width


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--onnx", required=True, help="a shipped face-expression model.onnx")
    p.add_argument("--data", required=True, help="folder with train.npz (BatchNorm statistics)")
    p.add_argument("--out", required=True, help="checkpoint path (.pt), as face_train writes")
    p.add_argument("--sample", type=int, default=2000, help="training faces for the statistics")
    args = p.parse_args(argv)
    images, _ = load_split(Path(args.data) / "train.npz")
    rng = np.random.default_rng(0)
    sample = images[rng.choice(len(images), min(args.sample, len(images)), replace=False)]
    onnx_path = Path(args.onnx)
    net, width = recover(onnx_path, sample)
    # The shipped run's own stages (meta.json beside the graph) stay in the history, so the
    # next stage's card lists every stage that led to it.
    meta_path = onnx_path.parent / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    checkpoint = {
        "state": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "width": width,
        "history": meta.get("history", []),
        "args": meta.get("train_args"),
        "epochs": meta.get("epochs"),
        "recovered_from": {"onnx": str(onnx_path), "version": meta.get("version")},
    }
    torch.save(checkpoint, args.out)
    print(json.dumps({"width": width, "out": args.out, "version": meta.get("version")}))


if __name__ == "__main__":
    main()
