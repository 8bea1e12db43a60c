"""A static int8 graph made float keeps its weights and answers as the int8 graph's reference
execution does, and the shipped expression graph answers the same with and without
onnxruntime's fused kernels (so on every CPU)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from attune.models.runtime import installed
from attune_training.face_export import quantize, to_onnx
from attune_training.face_net import ExpressionNet
from attune_training.onnx_float import main, quantized_ops, to_float


def _probs(path: Path, faces: np.ndarray, fused: bool = True) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if fused
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # each QDQ node as written: the reference
    )
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["probs"], {"faces": faces[:, None].astype(np.float32)})[0])


@pytest.fixture(scope="module")
def int8_graph(
    tmp_path_factory: pytest.TempPathFactory, folded_net: Callable[..., ExpressionNet]
) -> Path:
    net = folded_net(affine=False)
    folder = tmp_path_factory.mktemp("graphs")
    (folder / "fp32.onnx").write_bytes(to_onnx(net, temperature=0.5))
    calib = np.random.default_rng(0).integers(0, 256, (128, 48, 48)).astype(np.uint8)
    quantize(folder / "fp32.onnx", folder / "int8.onnx", calib)
    return folder / "int8.onnx"


def test_the_float_graph_has_the_int8_weights_and_no_integer_operators(
    int8_graph: Path, tmp_path: Path
) -> None:
    assert "QuantizeLinear" in quantized_ops(int8_graph)
    out = tmp_path / "new-folder" / "float.onnx"  # the command makes the folder
    main(["--onnx", str(int8_graph), "--out", str(out)])
    assert quantized_ops(out) == []
    faces = np.random.default_rng(1).integers(0, 256, (64, 48, 48)).astype(np.uint8)
    reference = _probs(int8_graph, faces, fused=False)
    mine = _probs(out, faces)
    # only the activations' 8-bit rounding is gone: same answers, nearly the same probabilities
    assert (reference.argmax(1) == mine.argmax(1)).mean() >= 0.9
    assert float(np.abs(reference - mine).max()) < 0.1
    np.testing.assert_allclose(mine.sum(1), 1.0, atol=1e-5)
    # and far closer to the int8 graph than a net with other weights would be
    assert float(np.abs(reference - mine).mean()) < 0.02


def test_a_dequantize_of_a_computed_tensor_is_refused() -> None:
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["x"], ["q"], to=onnx.TensorProto.UINT8),
            helper.make_node("DequantizeLinear", ["q", "s"], ["y"]),
        ],
        "odd",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])],
        [helper.make_tensor("s", onnx.TensorProto.FLOAT, [], [0.5])],
    )
    with pytest.raises(ValueError, match="not a QDQ graph"):
        to_float(helper.make_model(graph))


def test_the_shipped_expression_graph_gives_the_same_answers_on_every_cpu() -> None:
    path = installed()["face-expression"].path / "model.onnx"
    # integer kernels differ between CPUs (they saturate without VNNI): none may be in the graph
    assert quantized_ops(path) == []
    faces = np.random.default_rng(3).integers(0, 256, (32, 48, 48)).astype(np.uint8)
    np.testing.assert_allclose(_probs(path, faces), _probs(path, faces, fused=False), atol=1e-4)


def test_the_command_refuses_a_file_that_is_not_a_graph(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a graph")
    with pytest.raises(SystemExit, match="not a readable ONNX graph"):
        main(["--onnx", str(bad), "--out", str(tmp_path / "out.onnx")])
    assert not (tmp_path / "out.onnx").exists()
