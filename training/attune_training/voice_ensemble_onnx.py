"""Export a fitted ``voice_ensemble.Recipe`` as one ONNX graph (the runtime runs one session
per head, as for a single skl2onnx model): gather the feature subset, run each member, add their
weighted, temperature-scaled log-probabilities into "scores", and put a "label" output first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from attune.signals.voice.features import N_FEATURES
from attune_training.voice_ensemble import FEATURE_SETS, Recipe, is_svm


def to_onnx_model(rec: Recipe, classes: Sequence[str]) -> Any:
    """One ONNX graph: all gain-invariant features in, the ensemble's scores out ("scores",
    classes in ``classes`` order), so the runtime runs one session as for a single model."""
    import warnings

    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.compose import add_prefix
    from skl2onnx import to_onnx

    cols = list(FEATURE_SETS[rec.features])
    nodes = [helper.make_node("Gather", ["input", "cols"], ["xsel"], axis=1)]
    inits = [numpy_helper.from_array(np.asarray(cols, np.int64), "cols")]
    terms: list[str] = []
    for i, (m, t, wt) in enumerate(zip(rec.models, rec.temps, rec.weights, strict=True)):
        if m is None or wt <= 0:
            continue
        if [str(c) for c in m.classes_] != list(classes):
            raise ValueError("every member must know every class, in the same order")
        est = m.steps[-1][1] if hasattr(m, "steps") else m
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*prob[AB]_.*", category=FutureWarning)
            sub = to_onnx(
                m,
                np.zeros((1, len(cols)), np.float32),
                options={id(est): {"zipmap": False}},
                target_opset={"": 17, "ai.onnx.ml": 3},
            )
        sub = add_prefix(sub, f"m{i}_")
        g = sub.graph
        x_in, out = g.input[0].name, g.output[1].name  # outputs: label, per-class values
        for node in g.node:
            node.input[:] = ["xsel" if n == x_in else n for n in node.input]
        nodes += list(g.node)
        inits += list(g.initializer)
        p = f"m{i}_"
        raw = out
        if not is_svm(m):  # probabilities -> log-probabilities
            inits.append(numpy_helper.from_array(np.asarray(1e-9, np.float32), p + "eps"))
            nodes += [
                helper.make_node("Max", [out, p + "eps"], [p + "clip"]),
                helper.make_node("Log", [p + "clip"], [p + "log"]),
            ]
            raw = p + "log"
        inits += [
            numpy_helper.from_array(np.asarray(t, np.float32), p + "t"),
            numpy_helper.from_array(np.asarray(wt, np.float32), p + "w"),
        ]
        nodes += [
            helper.make_node("Div", [raw, p + "t"], [p + "z"]),
            helper.make_node("LogSoftmax", [p + "z"], [p + "lsm"], axis=1),
            helper.make_node("Mul", [p + "lsm", p + "w"], [p + "term"]),
        ]
        terms.append(p + "term")
    nodes.append(helper.make_node("Sum", terms, ["scores"]))
    graph = helper.make_graph(
        nodes,
        "voice_population_ensemble",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, N_FEATURES])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, len(classes)])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    model.ir_version = 8
    add_label_output(model, classes)
    onnx.checker.check_model(model)
    return model


def add_label_output(model: Any, classes: Sequence[str]) -> None:
    """Put a "label" output (argmax of "scores") first, as skl2onnx classifiers do: callers
    that read output 0 get labels, the runtime still reads the scores (its last output)."""
    from onnx import TensorProto, helper, numpy_helper

    g = model.graph
    if any(o.name == "label" for o in g.output):
        return
    names = numpy_helper.from_array(np.asarray(list(classes), dtype=object), "class_names")
    g.initializer.append(names)
    g.node.extend(
        [
            helper.make_node("ArgMax", ["scores"], ["label_idx"], axis=1, keepdims=0),
            helper.make_node("Gather", ["class_names", "label_idx"], ["label"], axis=0),
        ]
    )
    g.output.insert(0, helper.make_tensor_value_info("label", TensorProto.STRING, [None]))
