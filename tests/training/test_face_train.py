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
