"""``attune train face`` on a company's own faces, then loaded as its own model: end to end on a
tiny synthetic set (drawn faces, no real data), through the real CLI, export and runtime.

The model trained here is the operator's, with the licence the operator declares: it loads from
``ATTUNE_MODELS_DIR`` without the research opt-in that the shipped FER-2013 model needs.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

if importlib.util.find_spec("torch") is None:
    if os.environ.get("CI"):  # CI installs it (requirements.txt: -e ./training[torch])
        raise RuntimeError("PyTorch is missing in CI: the face training route goes untested")
    pytest.skip("needs PyTorch: pip install -e './training[torch]'", allow_module_level=True)

from attune.cli import app
from attune.models import runtime
from attune.signals import registry

LICENCE = "Acme video calls, customers' written consent to model training"


def drawn_face(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 48×48 grey cartoon face whose brows, eyes and mouth follow the FER class (0 angry,
    1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral); mirror-symmetric like the
    augmentation assumes."""
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    cx, cy = 24 + rng.uniform(-2, 2), 24 + rng.uniform(-2, 2)
    img = np.full((48, 48), 40.0, np.float32)
    img[((xx - cx) / 17) ** 2 + ((yy - cy) / 21) ** 2 <= 1] = 150.0
    eye = 4.0 if label in (2, 5) else 2.0  # fear, surprise: wide eyes
    lift = 4.0 if label in (2, 5) else 0.0  # ... and raised brows
    slope = {0: -0.5, 2: 0.4, 4: 0.4}.get(label, 0.0)  # angry: inner ends down; sad, fear: up
    for side in (-7, 7):
        img[(xx - cx - side) ** 2 + (yy - cy + 5) ** 2 <= eye**2] = 20.0
        brow = cy - 10 - lift + slope * np.sign(side) * (xx - cx - side)
        img[(np.abs(xx - cx - side) <= 4) & (np.abs(yy - brow) <= 0.8)] = 30.0
    mx = xx - cx
    curve = {3: -0.06, 4: 0.06, 0: 0.02}.get(label, 0.0)  # happy smiles, sad frowns
    mouth = cy + 9 + curve * (mx**2 - 36) + (1.5 * np.sin(mx / 1.5) if label == 1 else 0.0)
    if label in (2, 5):  # an open mouth: round (surprise) or wide (fear)
        r = 3.5 if label == 5 else 2.0
        img[(mx / (r + 3 * (label == 2))) ** 2 + ((yy - cy - 9) / r) ** 2 <= 1] = 10.0
    else:
        img[(np.abs(mx) <= 7) & (np.abs(yy - mouth) <= 1.0)] = 10.0
    img = (img + rng.normal(0, 12, img.shape)) * rng.uniform(0.8, 1.2)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def own_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train.npz (40 faces a class) and dev.npz (10 a class), in the FER-2013 npz format."""
    root = tmp_path_factory.mktemp("ownfaces")
    for split, n, seed in (("train", 40, 1), ("dev", 10, 2)):
        rng = np.random.default_rng(seed)
        labels = np.repeat(np.arange(7), n)
        images = np.stack([drawn_face(int(k), rng) for k in labels])
        np.savez(root / f"{split}.npz", images=images, labels=labels)
    return root


@pytest.fixture
def no_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.ENABLE_ENV, raising=False)
    monkeypatch.delenv(runtime.OWN_ENV, raising=False)
    monkeypatch.setattr(runtime, "_ENABLED", set())
    runtime.forget_loaded()
    yield
    runtime.forget_loaded()


def test_own_faces_train_then_load_without_the_research_opt_in(
    own_faces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_opt_in: None
) -> None:
    models = tmp_path / "models"
    out = models / "face-expression"  # the analyzer's model name: the own model replaces it
    # a fixed number of steps, not a time budget: the result must not depend on the machine's load
    args = ["train", "face", "--data", str(own_faces), "--out", str(out), "--steps", "60"]
    args += ["--width", "8", "--bench-seconds", "0.2", "--data-licence", LICENCE]
    result = CliRunner().invoke(app, [*args, "--commercial-use"])
    assert result.exit_code == 0, result.output
    for name in ("model.onnx", "labels.json", "meta.json", "MODEL_CARD.md"):
        assert (out / name).is_file(), name
    assert (models / "face-expression.pt").is_file()  # the checkpoint, beside the artifact
    assert runtime.OWN_ENV not in os.environ  # the card's scoring put the caller's env back
    meta = json.loads((out / "meta.json").read_text())
    assert meta["data_licences"] == [LICENCE] and meta["commercial_use"] is True
    assert meta["data"] == str(own_faces.resolve()) and meta["rows"]["train_split"] == 280
    card = (out / "MODEL_CARD.md").read_text()
    assert LICENCE in card and str(own_faces.resolve()) in card
    assert "Commercial use (declared, `--commercial-use`): yes" in card
    assert "FER-2013" not in card and "--steps 60" in card

    # The shipped research model stays off; the own one loads without any opt-in.
    with pytest.raises(runtime.ModelNotEnabled):
        runtime.artifact_dir("face-expression")
    monkeypatch.setenv(runtime.OWN_ENV, str(models))
    runtime.forget_loaded()
    ev = CliRunner().invoke(
        app, ["eval", "face", "--data", str(own_faces / "dev.npz"), "--json", "--no-baseline"]
    )
    assert ev.exit_code == 0, ev.output
    scored = json.loads(ev.stdout)
    assert scored["model"] == "face-expression@1" and scored["n"] == 70
    assert scored["accuracy"] >= 0.4  # chance is 1/7: it learnt the drawn expressions

    info = runtime.model_info("face-expression")
    assert info is not None and info.distribution == runtime.OWN_ENV and info.path == out
    assert info.enabled and info.commercial_use and info.data_licences == [LICENCE]
    listed = CliRunner().invoke(app, ["models", "list", "--json"])
    rows = {m["name"]: m for m in json.loads(listed.stdout)["models"]}
    assert rows["face-expression"]["commercial_use"] and rows["face-expression"]["enabled"]
    assert rows["face-expression"]["distribution"] == runtime.OWN_ENV
    assert not rows["voice-emotion"]["enabled"]  # research models are still off
    analyzer = registry.build("face")  # the face analyzer runs on the own model
    assert "face-expression@1" in analyzer.source


def test_commercial_use_needs_a_declared_data_licence(own_faces: Path, tmp_path: Path) -> None:
    args = ["train", "face", "--data", str(own_faces), "--out", str(tmp_path / "m")]
    result = CliRunner().invoke(app, [*args, "--commercial-use"])
    assert result.exit_code == 2 and "--data-licence" in result.output
    assert not (tmp_path / "m").exists()


def test_bf16_training_learns_and_keeps_float32_weights(own_faces: Path, tmp_path: Path) -> None:
    """--bf16 trains under bfloat16 autocast; what the checkpoint keeps (and exports) is fp32."""
    import torch

    from attune_training import face_train
    from attune_training.face_data import load_split

    ckpt = tmp_path / "bf16.pt"
    args = ["--data", str(own_faces), "--out", str(ckpt), "--steps", "60", "--width", "8"]
    result = face_train.train(face_train.parse([*args, "--threads", "1", "--bf16"]))
    assert result["args"]["bf16"] is True
    assert all(v.dtype != torch.bfloat16 for v in result["state"].values())
    net = face_train.ExpressionNet(8)
    net.load_state_dict(result["state"])
    images, labels = load_split(own_faces / "dev.npz")
    accuracy = float((face_train.predict_logits(net, images).argmax(1) == labels).mean())
    assert accuracy >= 0.4  # chance is 1/7: it learnt the drawn expressions in bfloat16


def test_cli_passes_bf16_to_training_and_into_the_card_command(
    own_faces: Path, tmp_path: Path
) -> None:
    out = tmp_path / "models" / "face-expression"
    args = ["train", "face", "--data", str(own_faces), "--out", str(out), "--steps", "5"]
    args += ["--width", "4", "--bench-seconds", "0.1", "--bf16"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "meta.json").read_text())["train_args"]["bf16"] is True
    assert "--bf16" in (out / "MODEL_CARD.md").read_text()
