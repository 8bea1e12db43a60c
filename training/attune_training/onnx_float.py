"""A static QDQ int8 graph -> a float graph with the same weights.

Why: onnxruntime fuses QDQ pairs into integer kernels (QLinearConv and friends) whose results
depend on the CPU. On x86 CPUs without VNNI (AVX2 only, e.g. AMD EPYC Zen 1) the u8 x s8 products
are summed in saturating 16-bit registers: the shipped face-expression v4 graph scored 0.623 on
dev there, against 0.693 with the reference (unfused) execution and on the machine it was made
on. A float graph gives the same answer on every CPU.

The conversion is exact for the weights: each DequantizeLinear of a constant becomes that
constant in float32 ((q - zero point) * scale, per channel where the graph is). Each activation
QuantizeLinear -> DequantizeLinear pair is dropped; where its zero point is 0 in uint8 it clamps
at zero, so it becomes a ReLU (the quantizer removes ReLUs that such a pair makes redundant).
What is lost is only the activations' rounding to 8 bits.

    python -m attune_training.onnx_float --onnx int8.onnx --out float.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

QUANTIZED_OPS = frozenset(
    {
        "QuantizeLinear",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "QLinearConv",
        "QLinearMatMul",
        "ConvInteger",
        "MatMulInteger",
    }
)


def quantized_ops(path: Path) -> list[str]:
    """The integer-quantization operators a graph holds (empty for a float graph)."""
    import onnx

    return sorted({n.op_type for n in onnx.load(str(path)).graph.node} & QUANTIZED_OPS)


def dequantize(node: onnx.NodeProto, consts: dict[str, np.ndarray]) -> np.ndarray:
    """The float32 value of a DequantizeLinear whose input is a constant:
    (q - zero point) * scale, per channel along the node's axis where the scale is a vector."""
    q, scale = consts[node.input[0]], consts[node.input[1]].astype(np.float32)
    zero = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    zp = np.zeros_like(scale) if zero is None else zero.astype(np.float32)
    if scale.ndim == 1 and scale.size > 1:  # per channel
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.float32) - zp) * scale).astype(np.float32)


def to_float(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with its QDQ nodes replaced as the module docstring says."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes = list(graph.node)
    producer = {out: k for k, n in enumerate(nodes) for out in n.output}
    drop: set[int] = set()
    replace: dict[int, onnx.NodeProto] = {}
    alias: dict[str, str] = {}  # a dropped pair's output -> the tensor it passed through
    new_consts: list[onnx.TensorProto] = []
    for k, node in enumerate(nodes):
        if node.op_type != "DequantizeLinear":
            continue
        src = node.input[0]
        if src in consts:
            new_consts.append(numpy_helper.from_array(dequantize(node, consts), node.output[0]))
            drop.add(k)
        elif src in producer and nodes[producer[src]].op_type == "QuantizeLinear":
            quant = nodes[producer[src]]
            drop.update({k, producer[src]})
            q_zero = consts.get(quant.input[2]) if len(quant.input) > 2 else None
            if q_zero is not None and q_zero.dtype == np.uint8 and int(q_zero.max()) == 0:
                replace[k] = helper.make_node("Relu", [quant.input[0]], [node.output[0]])
            else:
                alias[node.output[0]] = quant.input[0]
        else:
            raise ValueError(f"DequantizeLinear {node.name!r} reads {src!r}: not a QDQ graph")

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    kept = [replace.get(k, n) for k, n in enumerate(nodes) if k not in drop or k in replace]
    for n in kept:
        for i, name in enumerate(n.input):
            n.input[i] = resolve(name)
    for out in graph.output:  # a graph output that was a dropped pair's: pass it through
        if out.name in alias:
            kept.append(helper.make_node("Identity", [resolve(out.name)], [out.name]))
    used = {name for n in kept for name in n.input}
    inits = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(inits + [c for c in new_consts if c.name in used])
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> None:
    import onnx

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--onnx", required=True, type=Path, help="a static QDQ int8 graph")
    p.add_argument("--out", required=True, type=Path, help="where to write the float graph")
    args = p.parse_args(argv)
    if not args.onnx.is_file():
        sys.exit(f"no such file: {args.onnx}")
    try:
        model = onnx.load(str(args.onnx))
    except Exception as exc:  # protobuf's decode errors of any kind: one clear message
        sys.exit(f"{args.onnx} is not a readable ONNX graph ({exc})")
    try:
        model = to_float(model)
    except (ValueError, KeyError) as exc:
        sys.exit(f"{args.onnx}: {exc}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out))
    left = quantized_ops(args.out)
    print(f"{args.out}: {len(model.graph.node)} nodes, quantized operators left: {left or 'none'}")


if __name__ == "__main__":
    main()
