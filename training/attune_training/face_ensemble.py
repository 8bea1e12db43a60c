"""Average exported expression graphs into one ``model.onnx`` (training only).

Two nets trained apart make different mistakes; the mean of their (temperature-scaled,
mirror-averaged) probabilities is usually more accurate than either. The members' graphs are
put side by side in one ONNX graph, so the analyzer still runs one session per face. The
weights are fixed in advance (equal by default), not fitted. Whether the average ships is
decided on the training hold-out (rows no member trained on), never on dev:

    python -m attune_training.face_ensemble --member A/model.onnx --member B/model.onnx \\
        --ckpt B.pt --data ../shared/datasets/fer2013 --out face-expression --version 3
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attune.signals.taxonomy import FER_LABELS

INPUT, OUTPUT = "faces", "probs"


def merge(paths: Sequence[Path], weights: Sequence[float] | None = None) -> Any:
    """One ONNX model: ``faces`` in, the weighted sum of the members' ``probs`` out."""
    import onnx
    from onnx import helper, numpy_helper
    from onnx.compose import add_prefix

    if len(paths) < 2:
        raise ValueError("an ensemble needs two members or more")
    weights = list(weights) if weights is not None else [1.0 / len(paths)] * len(paths)
    if len(weights) != len(paths) or abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError("one weight per member, summing to 1")
    members = [add_prefix(onnx.load(str(p)), f"m{i}_") for i, p in enumerate(paths)]
    nodes: list[Any] = []
    inits: list[Any] = []
    infos: list[Any] = []
    terms: list[str] = []
    for i, (member, weight) in enumerate(zip(members, weights, strict=True)):
        g = member.graph
        if [x.name for x in g.input] != [f"m{i}_{INPUT}"] or g.output[0].name != f"m{i}_{OUTPUT}":
            raise ValueError(f"{paths[i]} is not an expression graph ({INPUT} -> {OUTPUT})")
        for node in g.node:
            node.input[:] = [INPUT if n == g.input[0].name else n for n in node.input]
        nodes += list(g.node)
        inits += list(g.initializer)
        infos += list(g.value_info)
        inits.append(numpy_helper.from_array(np.asarray(weight, np.float32), f"m{i}_weight"))
        nodes.append(helper.make_node("Mul", [g.output[0].name, f"m{i}_weight"], [f"m{i}_term"]))
        terms.append(f"m{i}_term")
    nodes.append(helper.make_node("Sum", terms, [OUTPUT]))
    first = members[0].graph
    inp = helper.make_tensor_value_info(INPUT, first.input[0].type.tensor_type.elem_type, None)
    inp.type.CopyFrom(first.input[0].type)
    out = helper.make_tensor_value_info(OUTPUT, first.output[0].type.tensor_type.elem_type, None)
    out.type.CopyFrom(first.output[0].type)
    graph = helper.make_graph(nodes, "face_expression_ensemble", [inp], [out], inits, None, infos)
    model = helper.make_model(
        graph, opset_imports=list(members[0].opset_import), ir_version=members[0].ir_version
    )
    onnx.checker.check_model(model)
    return model


def score(model: Path, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from attune_training.face_eval import metrics
    from attune_training.face_export import run_onnx

    probs, ms = run_onnx(model, x)
    return {**metrics(y, probs), "ms_per_face": round(ms, 3)}


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Write the averaged artifact to ``--out`` and score it and each member on the hold-out
    of ``--ckpt``'s training run and on dev; the figures go into its meta.json."""
    import onnx

    from attune_training.face_data import load_split

    members = [Path(m) for m in args.member]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(merge(members, args.weight or None), str(out / "model.onnx"))
    ckpt = _holdout_index(Path(args.ckpt))
    train_x, train_y = load_split(Path(args.data) / "train.npz")
    dev_x, dev_y = load_split(Path(args.data) / "dev.npz")
    splits = {"holdout": (train_x[ckpt], train_y[ckpt]), "dev": (dev_x, dev_y)}
    figures = {
        split: {
            "ensemble": score(out / "model.onnx", x, y),
            **{f"member{i}": score(m, x, y) for i, m in enumerate(members)},
        }
        for split, (x, y) in splits.items()
    }
    base = json.loads((members[-1].parent / "meta.json").read_text())
    meta = {
        **base,
        "version": args.version,
        "format": "ensemble of " + ", ".join(_describe(m) for m in members),
        "ensemble": {
            "members": [_describe(m) for m in members],
            "weights": args.weight or [round(1.0 / len(members), 4)] * len(members),
            "figures": figures,
        },
        "holdout": {"n": len(ckpt), "ensemble": figures["holdout"]["ensemble"]},
        "dev": {"ensemble": figures["dev"]["ensemble"]},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    (out / "labels.json").write_text(json.dumps(list(FER_LABELS)) + "\n")
    if args.card_from:
        shutil.copy(args.card_from, out / "MODEL_CARD.md")
    return meta


def _describe(model: Path) -> str:
    meta = json.loads((model.parent / "meta.json").read_text())
    return f"v{meta.get('version')} (width {meta.get('width')}, {meta.get('format')})"


def _holdout_index(ckpt: Path) -> np.ndarray:
    import torch

    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    return np.asarray(state["cal_idx"], dtype=np.int64)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--member", action="append", required=True, help="an exported model.onnx")
    p.add_argument("--weight", action="append", type=float, help="one per member (default equal)")
    p.add_argument("--ckpt", required=True, help="the training checkpoint whose hold-out scores")
    p.add_argument("--data", required=True, help="folder with train.npz and dev.npz")
    p.add_argument("--out", required=True)
    p.add_argument("--version", default="3")
    p.add_argument("--card-from", help="a model card to copy in (written by hand)")
    meta = build(p.parse_args(argv))
    print(json.dumps(meta["ensemble"]["figures"], indent=1))


if __name__ == "__main__":
    main()
