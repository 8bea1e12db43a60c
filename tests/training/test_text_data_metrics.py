"""Reading labelled files and the metrics/calibration used by text training and eval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune_training import text_metrics as tm
from attune_training.text_data import DataError, read_labelled, stratified_split


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_read_multi_label_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, 'text,labels\n"so annoying, really",annoyance;anger\nok,neutral\n')
    data = read_labelled(path, multi_label=True, known=["annoyance", "anger", "neutral"])
    assert data.texts == ["so annoying, really", "ok"]
    assert data.labels == [["annoyance", "anger"], ["neutral"]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("txt,labels\nhi,neutral\n", "missing column(s) text"),
        ("text,labels\nhi,neutral\n,neutral\n", "row 3, column 'text' is empty"),
        ("text,labels\nhi,\n", "row 2, column 'labels' is empty"),
        ("text,labels\nhi,joyful\n", "row 2, column 'labels': unknown label 'joyful'"),
        ("text,labels\n", "no data rows"),
    ],
)
def test_bad_files_name_row_and_column(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_labelled(_write(tmp_path, body), multi_label=True, known=["neutral"])


def test_single_label_rejects_several_labels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="several labels"):
        read_labelled(_write(tmp_path, "text,labels\nhi,a;b\n"), multi_label=False)


def test_stratified_split_keeps_every_label_in_train(tmp_path: Path) -> None:
    rows = [f"t{i},a" for i in range(20)] + [f"u{i},b" for i in range(10)] + ["lonely,c"]
    data = read_labelled(_write(tmp_path, "text,labels\n" + "\n".join(rows)), False)
    train, dev = stratified_split(data, 0.2, seed=1)
    assert len(train) + len(dev) == 31
    assert {x[0] for x in train.labels} == {"a", "b", "c"}
    assert sorted(x[0] for x in dev.labels) == ["a"] * 4 + ["b"] * 2
    assert not set(train.texts) & set(dev.texts)


def test_macro_f1_by_hand() -> None:
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=bool)
    pred = np.array([[1, 0], [0, 0], [0, 1], [0, 1]], dtype=bool)
    # label 0: tp 1, fn 1 -> F1 2/3; label 1: tp 1, fp 1 -> F1 2/3
    assert tm.macro_f1(y, pred) == pytest.approx(2 / 3)


def test_thresholds_beat_a_fixed_half() -> None:
    rng = np.random.default_rng(0)
    y = rng.random((2000, 3)) < [0.05, 0.3, 0.5]
    # a model whose scores are shifted low for the rare label: 0.5 misses most positives
    probs = np.clip(y * 0.3 + rng.random(y.shape) * 0.25, 0, 1)
    tuned = tm.labels_above(probs, tm.tune_thresholds(probs, y), at_least_one=False)
    fixed = tm.labels_above(probs, np.full(3, 0.5), at_least_one=False)
    assert tm.macro_f1(y, tuned) > tm.macro_f1(y, fixed) + 0.3


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(1)
    true_logits = rng.normal(0, 2, size=(4000, 5))
    y = np.array([rng.choice(5, p=p) for p in tm.softmax(true_logits)])
    t = tm.fit_temperature(true_logits * 3.0, y, multi_label=False)  # 3x overconfident
    assert t == pytest.approx(3.0, rel=0.15)
    before = tm.top_label_ece(tm.softmax(true_logits * 3.0), y)
    after = tm.top_label_ece(tm.softmax(true_logits * 3.0 / t), y)
    assert after < before / 2


def test_ece_is_small_for_calibrated_and_large_for_confident_wrong() -> None:
    rng = np.random.default_rng(2)
    p = rng.random(20000)
    assert tm.ece_binary(p, rng.random(20000) < p) < 0.02
    assert tm.ece_binary(np.full(100, 0.95), np.zeros(100)) == pytest.approx(0.95)


def test_group_maps_any_member_label() -> None:
    y = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=bool)
    grouped, names = tm.group(
        y, ["anger", "joy", "love"], {"anger": "neg", "joy": "pos", "love": "pos"}
    )
    assert names == ["neg", "pos"]
    assert grouped.tolist() == [[True, False], [False, True], [False, False]]
