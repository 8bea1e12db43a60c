"""A trainable net rebuilt from an exported expression graph answers as the graph does
(no face data set is needed: random grey faces stand in for the statistics)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from attune.models.runtime import installed
from attune_training.face_export import to_onnx
from attune_training.face_net import ExpressionNet
from attune_training.face_recover import recover


def _graph_probs(path: Path, faces: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["probs"], {"faces": faces[:, None].astype(np.float32)})[0])


def _net_probs(net: ExpressionNet, faces: np.ndarray, temperature: float) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(faces).float().unsqueeze(1) / 255.0
        logits = 0.5 * (net(x) + net(torch.flip(x, dims=[3])))
        return torch.softmax(logits / temperature, dim=1).numpy()


def test_a_float_graph_is_recovered_exactly(
    tmp_path: Path, folded_net: Callable[..., ExpressionNet]
) -> None:
    net = folded_net()
    graph = tmp_path / "fp32.onnx"
    graph.write_bytes(to_onnx(net, temperature=1.5))
    faces = np.random.default_rng(1).integers(0, 256, (64, 48, 48)).astype(np.uint8)
    rebuilt, width = recover(graph, faces)
    assert width == 8
    np.testing.assert_allclose(
        _net_probs(rebuilt, faces[:16], 1.5), _graph_probs(graph, faces[:16]), atol=1e-4
    )
    # training mode (batch statistics) starts from nearly the same function
    rebuilt.train()
    rebuilt.dropout.p = 0.0
    with torch.no_grad():
        x = torch.from_numpy(faces).float().unsqueeze(1) / 255.0
        train_logits = rebuilt(x)
    rebuilt.eval()
    with torch.no_grad():
        eval_logits = rebuilt(x)
    assert float((train_logits - eval_logits).abs().max()) < 1e-2


def test_the_shipped_graph_is_recovered() -> None:
    folder = installed()["face-expression"].path
    shipped = folder / "model.onnx"
    temperature = json.loads((folder / "meta.json").read_text())["dev"]["temperature"]
    faces = np.random.default_rng(2).integers(0, 256, (96, 48, 48)).astype(np.uint8)
    rebuilt, width = recover(shipped, faces)
    assert width == 48
    graph = _graph_probs(shipped, faces)
    mine = _net_probs(rebuilt, faces, temperature)
    # a float graph (v5 on): the rebuilt net is its function
    np.testing.assert_allclose(mine, graph, atol=1e-4)


def test_a_graph_without_a_head_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["faces"], ["probs"])],
        "empty",
        [helper.make_tensor_value_info("faces", onnx.TensorProto.FLOAT, ["n", 1, 48, 48])],
        [helper.make_tensor_value_info("probs", onnx.TensorProto.FLOAT, None)],
    )
    path = tmp_path / "empty.onnx"
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(ValueError, match="no classifier head"):
        recover(path, np.zeros((2, 48, 48), np.uint8))
