"""The fine-tuning script's auxiliary-task options and the meta.json it writes (no torch needed:
only argument parsing and the artifact description are exercised here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attune_training import text_encoder as te


def test_aux_specs_parse_into_train_and_dev_paths() -> None:
    got = te._parse_aux(["banking77=a/train.csv,a/dev.csv", "bitext=b/t.csv,b/d.csv"])
    assert got == {
        "banking77": (Path("a/train.csv"), Path("a/dev.csv")),
        "bitext": (Path("b/t.csv"), Path("b/d.csv")),
    }


@pytest.mark.parametrize("spec", ["banking77=a.csv", "=a.csv,b.csv", "main=a.csv,b.csv", "x"])
def test_malformed_aux_spec_is_refused_with_the_expected_form(spec: str) -> None:
    with pytest.raises(SystemExit, match=r"NAME=TRAIN\.csv,DEV\.csv"):
        te._parse_aux([spec])


def _info(aux: list[str], history: list[dict]) -> dict:
    args = {
        "train": "../shared/datasets/goemotions/train.csv",
        "dev": "../shared/datasets/goemotions/dev.csv",
        "out": "DIR",
        "max_len": 64,
        "lr": 8e-5,
        "batch": 32,
        "threads": 2,
        "epochs": 3,
        "seed": 13,
        "aux": aux,
        "aux_weight": 0.2,
    }
    names = [s.split("=")[0] for s in aux]
    return {"args": args, "aux": names, "history": history, "train_rows": {}, "device": "cpu x2"}


def test_meta_keeps_the_epoch_with_the_best_mean_over_tasks(tmp_path: Path) -> None:
    history = [
        {"epoch": 1, "dev": 0.50, "dev_tasks": {"main": 0.50, "banking77": 0.95}},
        {"epoch": 2, "dev": 0.52, "dev_tasks": {"main": 0.52, "banking77": 0.90}},
    ]
    te.write_meta(tmp_path, _info(["banking77=b/train.csv,b/dev.csv"], history))
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["fine_tuned"]["epoch_kept"] == 1  # 0.725 mean beats 0.71
    assert meta["version"] == "minilm-l6-goemotions-banking77-ft1-s13-int8"
    assert "--aux banking77=b/train.csv,b/dev.csv --aux-weight 0.2" in meta["command"]
    assert "banking77 as auxiliary tasks" in meta["card_note"]


def test_meta_without_aux_tasks_selects_on_the_main_task(tmp_path: Path) -> None:
    history = [{"epoch": 1, "dev": 0.50}, {"epoch": 2, "dev": 0.55}, {"epoch": 3, "dev": 0.54}]
    te.write_meta(tmp_path, _info([], history))
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["fine_tuned"]["epoch_kept"] == 2
    assert "--aux" not in meta["command"]
    assert "auxiliary" not in meta["card_note"]


def test_meta_of_a_single_label_pack_encoder_names_it_and_its_data(tmp_path: Path) -> None:
    info = _info([], [{"epoch": 1, "dev": 0.90}, {"epoch": 2, "dev": 0.93}])
    info["args"].update(
        train="../shared/datasets/banking77/train.csv",
        dev="../shared/datasets/banking77/dev.csv",
        multi_label=False,
        name="text-encoder-banking",
    )
    te.write_meta(tmp_path, info)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["name"] == "text-encoder-banking"
    assert "--multi-label" not in meta["command"]
    assert "--name text-encoder-banking" in meta["command"]
    assert "Banking77 train split" in meta["card_note"]
    assert "`text-encoder-banking`" in meta["card_note"]
    assert meta["version"] == "minilm-l6-banking77-ft2-s13-int8"


def test_the_shared_encoder_meta_keeps_its_name_and_multi_label_command(tmp_path: Path) -> None:
    info = _info([], [{"epoch": 1, "dev": 0.55}])
    info["args"]["multi_label"] = True
    te.write_meta(tmp_path, info)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["name"] == "text-encoder"
    assert "--multi-label" in meta["command"] and "--name" not in meta["command"]
    assert "GoEmotions train split" in meta["card_note"]


def test_a_shallower_encoder_records_its_depth_and_pooled_layers(tmp_path: Path) -> None:
    info = _info([], [{"epoch": 1, "dev": 0.90}])
    info["args"]["layers"] = 3
    te.write_meta(tmp_path, info)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["layers"] == 3
    assert "--layers 3 " in meta["command"]
    assert "layers 1, 2, 3 + last-layer CLS" in meta["outputs"]
    assert meta["version"].startswith("minilm-l3-")
    te.write_meta(tmp_path, _info([], [{"epoch": 1, "dev": 0.90}]))  # the default: all six
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["layers"] == 6 and "--layers" not in meta["command"]
    assert "layers 4, 5, 6 + last-layer CLS" in meta["outputs"]


@pytest.mark.parametrize("layers", ["2", "7"])
def test_depth_outside_three_to_six_is_refused(layers: str) -> None:
    with pytest.raises(SystemExit):
        te.main(["--train", "a.csv", "--dev", "b.csv", "--out", "o", "--layers", layers])


def test_the_encoder_selects_on_the_rows_the_pack_carves_out_of_train(tmp_path: Path) -> None:
    """``--select-share``: the encoder's epoch and the pack's settings are chosen on the very
    same train rows (stratified, same seed), which the encoder never trained on."""
    from attune_training.text_data import read_labelled, stratified_split

    rows = [f"text {i},{'ab'[i % 2]}{i % 3}" for i in range(60)]
    path = tmp_path / "train.csv"
    path.write_text("text,labels\n" + "\n".join(rows) + "\n", encoding="utf-8")
    fit, held = te.carve(te.read_rows(path), 0.2, 13)
    _, pack_held = stratified_split(read_labelled(path, False), 0.2, 13)
    assert [t for t, _ in held] == pack_held.texts and len(held) == 12
    assert not {t for t, _ in fit} & set(pack_held.texts) and len(fit) == 48

    info = _info([], [{"epoch": 1, "dev": 0.90}, {"epoch": 2, "dev": 0.93}])
    info["args"].update(dev="", select_share=0.1, multi_label=False)
    te.write_meta(tmp_path, info)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert "--select-share 0.1 " in meta["command"] and "--dev" not in meta["command"]
    assert meta["fine_tuned"]["selected_on"] == "a 10% carve-out of train"
    assert "selected on a 10% carve-out of train" in meta["card_note"]
    assert meta["version"] == "minilm-l6-goemotions-ft2-s13-carve10-int8"


def test_keep_last_keeps_the_last_epoch_whatever_the_dev_score(tmp_path: Path) -> None:
    info = _info([], [{"epoch": 1, "dev": 0.93}, {"epoch": 2, "dev": 0.90}])
    info["args"]["keep"] = "last"
    te.write_meta(tmp_path, info)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["fine_tuned"]["epoch_kept"] == 2 and "--keep last " in meta["command"]
    assert meta["fine_tuned"]["selected_on"] == "none: the last of a count chosen beforehand"
