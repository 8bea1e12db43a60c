"""Group decisions (Ekman, CX) of the emotion model, and the head fine-tuned with the encoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attune.models.runtime import artifact_dir
from attune.signals.text.models import EMOTION, TextModel
from attune_training import text_metrics as tm
from attune_training.text_heads import ENCODER_HEADS, encoder_head, save_head


def test_group_probs_is_the_noisy_or_of_each_groups_labels() -> None:
    probs = np.array([[0.5, 0.5, 0.1], [0.0, 0.0, 0.9]])
    p, names = tm.group_probs(probs, ["a", "b", "c"], {"a": "x", "b": "x", "c": "y"})
    assert names == ["x", "y"]
    np.testing.assert_allclose(p, [[0.75, 0.1], [0.0, 0.9]])


def test_shipped_model_decides_ekman_and_cx_groups() -> None:
    model = TextModel(artifact_dir(EMOTION))
    probs = np.random.default_rng(0).uniform(0, 1, (5, len(model.labels))) ** 4
    groups = model.labels_above_by_group(probs)
    assert set(groups) == {"ekman", "cx"}
    assert groups["ekman"].shape == (5, 7)
    assert groups["ekman"].any(axis=1).all()  # at least one group per text, as every label


def _head_dir(tmp_path: Path, labels: list[str], kind: str = "emotion") -> Path:
    w = np.arange(2 * len(labels), dtype=np.float32).reshape(2, len(labels))
    head = {"mean": np.zeros(2), "scale": np.ones(2), "w1": w, "b1": np.arange(len(labels))}
    head_file, labels_file = ENCODER_HEADS[kind]
    save_head(head, tmp_path / head_file)
    (tmp_path / labels_file).write_text(json.dumps(labels))
    return tmp_path


def test_encoder_head_columns_follow_the_requested_label_order(tmp_path: Path) -> None:
    head = encoder_head(_head_dir(tmp_path, ["a", "b", "c"]), ["c", "a"], "emotion")
    np.testing.assert_array_equal(head["b1"], [2, 0])
    np.testing.assert_array_equal(head["w1"][:, 0], [2, 5])


def test_encoder_head_errors_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no column for 'z'"):
        encoder_head(_head_dir(tmp_path, ["a", "b"]), ["a", "z"], "emotion")
    with pytest.raises(ValueError, match="no fine-tuned emotion head"):
        encoder_head(tmp_path / "missing", ["a"], "emotion")


def test_an_intent_head_is_read_from_its_own_files_not_the_emotion_ones(tmp_path: Path) -> None:
    folder = _head_dir(tmp_path, ["card_lost", "refund"], kind="intent")
    np.testing.assert_array_equal(encoder_head(folder, ["refund"], "intent")["b1"], [1])
    with pytest.raises(ValueError, match=r"no fine-tuned emotion head \(emotion_head.npz\)"):
        encoder_head(folder, ["refund"], "emotion")
