"""Weight averaging for the expression network: the averaged net is the parameters' mean with
BatchNorm statistics measured anew, and a ``--swa-lr`` run keeps that average, not an epoch."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

if importlib.util.find_spec("torch") is None:
    if os.environ.get("CI"):  # CI installs it (requirements.txt: -e ./training[torch])
        raise RuntimeError("PyTorch is missing in CI: face weight averaging goes untested")
    pytest.skip("needs PyTorch: pip install -e './training[torch]'", allow_module_level=True)

import torch
from torch.optim.swa_utils import AveragedModel

from attune_training import face_train
from attune_training.face_data import load_split
from attune_training.face_net import ExpressionNet
from attune_training.face_swa import averaged_net, swa_lr_for


def test_averaged_net_is_the_mean_of_the_weights_with_fresh_batchnorm_statistics() -> None:
    torch.manual_seed(0)
    a, b = ExpressionNet(4), ExpressionNet(4)
    swa = AveragedModel(a)
    swa.update_parameters(a)  # the first call copies, the second averages
    swa.update_parameters(b)
    faces = torch.rand(64, 1, 48, 48)
    avg = averaged_net(swa, 4, faces, torch.Generator().manual_seed(1))
    head_a, head_b = a.head.weight, b.head.weight
    assert torch.allclose(avg.head.weight, 0.5 * (head_a + head_b))
    conv, bn = avg.conv_layers()[0]
    first_a, first_b = a.conv_layers()[0][0], b.conv_layers()[0][0]
    assert torch.allclose(conv.weight, 0.5 * (first_a.weight + first_b.weight))
    # the fresh nets' statistics are the defaults (0, 1); measured on faces they are not
    assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert not avg.training


def test_learning_rate_warms_up_then_stays_constant() -> None:
    assert swa_lr_for(0.0, 0.01) == 0.0
    assert swa_lr_for(0.015, 0.01) == pytest.approx(0.005)
    assert swa_lr_for(0.5, 0.01) == swa_lr_for(0.99, 0.01) == 0.01


def test_swa_run_keeps_the_average_and_it_reads_the_faces(own_faces: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "swa.pt"
    args = ["--data", str(own_faces), "--out", str(ckpt), "--steps", "80", "--width", "8"]
    args += ["--threads", "1", "--swa-lr", "0.05", "--swa-start", "0.2", "--size", "48"]
    result = face_train.train(face_train.parse(args))
    assert result["selected"]["which"] == "swa"
    averaged = [row for row in result["log"] if "holdout_swa" in row]
    assert result["selected"]["swa_epochs"] == len(averaged) >= 2
    assert len(averaged) < len(result["log"])  # the first fifth of the run is not averaged
    net = ExpressionNet(8)
    net.load_state_dict(result["state"])
    images, labels = load_split(own_faces / "dev.npz")
    accuracy = float((face_train.predict_logits(net, images).argmax(1) == labels).mean())
    assert accuracy >= 0.4  # chance is 1/7


def test_swa_that_never_starts_is_an_error(own_faces: Path, tmp_path: Path) -> None:
    args = ["--data", str(own_faces), "--out", str(tmp_path / "x.pt"), "--steps", "3"]
    args += ["--width", "4", "--threads", "1", "--swa-lr", "0.05", "--swa-start", "1.5"]
    with pytest.raises(ValueError, match="--swa-start"):
        face_train.train(face_train.parse(args))


def test_cli_trains_with_weight_averaging_and_the_card_says_what_was_kept(
    own_faces: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from attune.cli import app

    out = tmp_path / "models" / "face-expression"
    args = ["train", "face", "--data", str(own_faces), "--out", str(out), "--steps", "40"]
    args += ["--width", "4", "--size", "48", "--bench-seconds", "0.1", "--swa-lr", "0.05"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["train_args"]["swa_lr"] == 0.05 and meta["selected"]["which"] == "swa"
    card = (out / "MODEL_CARD.md").read_text()
    assert "--swa-lr 0.05" in card
    assert "Kept: the average of the weights" in card and "average so far" in card
