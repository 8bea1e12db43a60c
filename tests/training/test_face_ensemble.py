"""Two exported expression graphs averaged into one ONNX graph that the analyzer runs as it
runs one model (the shipped graph is read, never written; no face data set is needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from attune.models.runtime import installed
from attune_training.face_ensemble import merge


@pytest.fixture(scope="module")
def shipped() -> Path:
    """The shipped research graph's file, read as a file (no opt-in: nothing is served)."""
    return installed()["face-expression"].path / "model.onnx"


def _probs(model: onnx.ModelProto | Path, faces: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    raw = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["probs"], {"faces": faces})[0])


def test_the_average_of_a_graph_with_itself_answers_as_the_graph(shipped: Path) -> None:
    faces = np.random.default_rng(3).integers(0, 256, (5, 1, 48, 48)).astype(np.float32)
    alone = _probs(shipped, faces)
    both = _probs(merge([shipped, shipped]), faces)
    np.testing.assert_allclose(both, alone, atol=1e-5)
    np.testing.assert_allclose(both.sum(axis=1), 1.0, atol=1e-5)


def test_weights_move_the_average_towards_a_member(shipped: Path, tmp_path: Path) -> None:
    from onnx import helper

    # a second "member": the same input, a fixed answer (all on one class)
    const = helper.make_tensor("c", onnx.TensorProto.FLOAT, [1, 7], [0, 0, 0, 1, 0, 0, 0])
    nodes = [
        helper.make_node("ReduceSum", ["faces"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "zero"], ["z"]),
        helper.make_node("Add", ["c", "z"], ["probs"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed",
        [helper.make_tensor_value_info("faces", onnx.TensorProto.FLOAT, ["n", 1, 48, 48])],
        [helper.make_tensor_value_info("probs", onnx.TensorProto.FLOAT, None)],
        [const, helper.make_tensor("zero", onnx.TensorProto.FLOAT, [], [0.0])],
    )
    fixed = tmp_path / "fixed.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), fixed)
    faces = np.zeros((1, 1, 48, 48), np.float32)
    alone = _probs(shipped, faces)[0]
    mixed = _probs(merge([shipped, fixed], [0.75, 0.25]), faces)[0]
    expected = 0.75 * alone + 0.25 * np.eye(7)[3]
    np.testing.assert_allclose(mixed, expected, atol=1e-5)


def test_bad_members_or_weights_are_refused(shipped: Path) -> None:
    with pytest.raises(ValueError, match="two members"):
        merge([shipped])
    with pytest.raises(ValueError, match="summing to 1"):
        merge([shipped, shipped], [0.5, 0.6])
