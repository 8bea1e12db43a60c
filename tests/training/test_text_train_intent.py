"""`attune train intent --data my.csv --pack NAME` on a tiny synthetic company CSV, then
`attune eval intent` on it, through the real CLI and the real shipped encoder (no torch). A pack
trained on German rows answers German messages through the German route's head."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attune.cli import app

INTENTS = {
    "track_parcel": ["where is my parcel {x}", "track my package {x}", "has my parcel {x} shipped"],
    "change_plan": [
        "I want to upgrade my plan {x}",
        "switch me to a cheaper plan {x}",
        "change my tariff {x}",
    ],
    "opening_hours": [
        "when are you open {x}",
        "what are your opening hours {x}",
        "are you open on sunday {x}",
    ],
}
FILLERS = ["", "please", "today", "asap", "thanks", "now", "right away", "for me", "quickly"]


def _csv(
    path: Path,
    seed: int,
    per_label: int,
    intents: dict[str, list[str]] = INTENTS,
    fillers: list[str] = FILLERS,
) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "labels"])
        for label, templates in intents.items():
            for _ in range(per_label):
                out.writerow([rng.choice(templates).format(x=rng.choice(fillers)).strip(), label])
    return path


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def test_train_then_eval_a_company_pack(tmp_path: Path, models_dir: Path) -> None:
    runner = CliRunner()
    data = _csv(tmp_path / "acme.csv", seed=1, per_label=20)
    result = runner.invoke(app, ["train", "intent", "--data", str(data), "--pack", "acme"])
    assert result.exit_code == 0, result.output
    art = models_dir / "intent-acme"
    for name in (
        "head.npz",
        "tfidf.onnx",
        "tfidf_head.npz",
        "labels.json",
        "meta.json",
        "MODEL_CARD.md",
    ):
        assert (art / name).is_file(), name
    meta = json.loads((art / "meta.json").read_text())
    assert json.loads((art / "labels.json").read_text()) == sorted(INTENTS)
    assert meta["seed"] == 13 and meta["dev_rows"] == 9  # 15% of 20 per label, stratified
    card = (art / "MODEL_CARD.md").read_text()
    assert "attune train intent --pack acme --data acme.csv" in card
    assert "accuracy (with `unknown`)" in card

    test = _csv(tmp_path / "acme_test.csv", seed=2, per_label=8)
    result = runner.invoke(app, ["eval", "intent", "--pack", "acme", "--data", str(test), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert out["n"] == 24
    assert out["accuracy"] >= 0.9 and out["macro_f1"] >= 0.9
    assert 0.0 <= out["ece"] <= 1.0 and out["ms_per_message"] > 0
    assert "accuracy" in out["peer"]


def test_same_seed_same_model(tmp_path: Path, models_dir: Path) -> None:
    runner = CliRunner()
    data = _csv(tmp_path / "acme.csv", seed=3, per_label=12)
    metas = []
    for out in ("a", "b"):
        args = ["train", "intent", "--data", str(data), "--pack", "x", "--out", str(tmp_path / out)]
        assert runner.invoke(app, args).exit_code == 0
        meta = json.loads((tmp_path / out / "meta.json").read_text())
        metas.append((meta["temperature"], meta["ensemble_weight"], meta["unknown_threshold"]))
    assert metas[0] == metas[1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("text,label\nhi,a\n", "missing column(s) labels"),
        ("text,labels\nhi,a\n,b\n", "row 3, column 'text' is empty"),
        ("text,labels\nhi,a\nho,a\n", "at least two labels"),
    ],
)
def test_bad_company_csv_is_a_clean_error(
    tmp_path: Path, models_dir: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "intent", "--data", str(path), "--pack", "bad"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_unknown_builtin_pack_without_data(models_dir: Path) -> None:
    result = CliRunner().invoke(app, ["train", "intent", "--pack", "nope"])
    assert result.exit_code == 2 and "unknown pack 'nope'" in result.output


def test_a_pack_trained_on_an_encoder_of_its_own_reads_that_encoder(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from attune.models.runtime import installed
    from attune.signals.text import models as textmodels
    from attune.signals.text.reading import read_texts

    own = models_dir / "text-encoder-acme"  # a copy of the shared one, under another name
    shutil.copytree(installed()["text-encoder"].path, own)
    runner = CliRunner()
    data = _csv(tmp_path / "acme.csv", seed=1, per_label=20)
    args = ["train", "intent", "--data", str(data), "--pack", "acme"]
    result = runner.invoke(app, [*args, "--encoder", "text-encoder-acme"])
    assert result.exit_code == 0, result.output
    meta = json.loads((models_dir / "intent-acme" / "meta.json").read_text())
    assert meta["encoder"] == "text-encoder-acme"
    assert "--encoder text-encoder-acme" in meta["command"]

    monkeypatch.setattr(textmodels, "_CACHE", {})
    models = textmodels.load_models(("acme",))
    assert set(models.own_encoders) == {"text-encoder-acme"}
    [reading] = read_texts(models, ["where is my parcel please"], pack="acme")
    assert reading.intent == "track_parcel" and reading.intent_conf > 0.5

    shutil.rmtree(own)  # the pack cannot fall back to the shared encoder silently
    monkeypatch.setattr(textmodels, "_CACHE", {})
    with pytest.raises(FileNotFoundError, match="'text-encoder-acme' is not installed"):
        textmodels.load_models(("acme",))
    result = runner.invoke(app, ["eval", "intent", "--pack", "acme", "--data", str(data)])
    assert result.exit_code == 2 and "'text-encoder-acme' is not installed" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--encoder", "nope"], "model 'nope' is not installed"),
        (["--head", "encoder"], "no fine-tuned intent head (intent_head.npz)"),
    ],
)
def test_a_missing_encoder_or_encoder_head_is_a_clean_error(
    tmp_path: Path, models_dir: Path, extra: list[str], message: str
) -> None:
    data = _csv(tmp_path / "acme.csv", seed=1, per_label=20)
    args = ["train", "intent", "--data", str(data), "--pack", "acme", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_select_share_chooses_everything_on_train_and_adds_a_cascade(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack with an encoder of its own and ``--select-share``: temperatures, weights and
    thresholds come from a carve-out of train; the quick stage on the shared encoder ships
    with it, and eval scores the pack through the cascade, as run time reads it."""
    import shutil

    from attune.models.runtime import installed
    from attune.signals.text import models as textmodels

    shutil.copytree(installed()["text-encoder"].path, models_dir / "text-encoder-acme")
    data = _csv(tmp_path / "acme.csv", seed=1, per_label=30)
    args = ["train", "intent", "--data", str(data), "--pack", "acme"]
    extra = ["--encoder", "text-encoder-acme", "--select-share", "0.2"]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    art = models_dir / "intent-acme"
    meta = json.loads((art / "meta.json").read_text())
    assert meta["decisions_fitted_on"].startswith("a 20% carve-out of train")
    assert meta["select_rows"] + meta["fit_rows"] == meta["train_rows"]
    cascade = meta["cascade"]
    assert 0.5 <= cascade["threshold"] <= 1.0 and 0.0 <= cascade["weight"] <= 1.0
    assert cascade["accuracy"]["cascade"] >= cascade["accuracy"]["full"]
    assert (art / "quick_head.npz").is_file()
    assert "--select-share 0.2" in meta["command"]

    # choosing with an encoder fine-tuned without the carve-out (here: a copy), shipping another
    chooser = tmp_path / "chooser"
    shutil.copytree(installed()["text-encoder"].path, chooser)
    out = tmp_path / "chosen"
    more = ["--select-encoder", str(chooser), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, *extra, *more])
    assert result.exit_code == 0, result.output
    chosen = json.loads((out / "meta.json").read_text())
    assert (
        chosen["chosen_with_encoder"] == json.loads((chooser / "meta.json").read_text())["version"]
    )
    assert chosen["cascade"] == cascade  # the same features chose the same settings
    assert "--select-encoder DIR" in chosen["command"]
    assert "fine-tuned without the carved-out rows" in (out / "MODEL_CARD.md").read_text()

    monkeypatch.setattr(textmodels, "_CACHE", {})
    assert textmodels.load_models(("acme",)).packs["acme"].cascade is not None
    result = CliRunner().invoke(
        app, ["eval", "intent", "--pack", "acme", "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert 0.0 <= out["second_pass_rate"] <= 1.0 and out["accuracy"] >= 0.9
    assert out["cascade_threshold"] == cascade["threshold"]


# A company pack trained on German rows answers German messages (issue 16, item 5).
GERMAN_INTENTS = {
    "paket_verfolgen": [
        "Wo ist mein Paket {x}",
        "Ich möchte wissen, wann meine Sendung ankommt {x}",
        "Können Sie mir sagen, wo meine Lieferung gerade ist {x}",
    ],
    "tarif_wechseln": [
        "Ich will in einen günstigeren Tarif wechseln {x}",
        "Bitte stellen Sie meinen Vertrag auf den größeren Tarif um {x}",
        "Wie kann ich meinen Tarif ändern {x}",
    ],
    "oeffnungszeiten": [
        "Wann haben Sie geöffnet {x}",
        "Wie sind Ihre Öffnungszeiten am Wochenende {x}",
        "Ist die Filiale am Sonntag offen {x}",
    ],
}
GERMAN_FILLERS = [
    "",
    "bitte",
    "heute",
    "danke",
    "schnell",
    "jetzt",
    "für mich",
    "noch",
    "eigentlich",
]
UNSEEN = {  # phrasings that appear in no template: the head must generalise a little
    "paket_verfolgen": "Meine Bestellung ist noch nicht da, wo steckt das Paket denn?",
    "tarif_wechseln": "Kann ich meinen Vertrag auf einen anderen Tarif umstellen?",
    "oeffnungszeiten": "Bis wie viel Uhr hat Ihr Geschäft am Samstag geöffnet?",
}


def test_a_german_company_pack_reads_german_messages(tmp_path: Path, models_dir: Path) -> None:
    from attune.signals.text import multilingual
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts

    runner = CliRunner()
    data = _csv(tmp_path / "shop_de.csv", 1, 20, GERMAN_INTENTS, GERMAN_FILLERS)
    result = runner.invoke(app, ["train", "intent", "--data", str(data), "--pack", "shop_de"])
    assert result.exit_code == 0, result.output
    art = models_dir / "intent-shop_de"
    assert (art / multilingual.PACK_HEAD).is_file()
    meta = json.loads((art / multilingual.PACK_META).read_text())
    assert meta["labels"] == sorted(GERMAN_INTENTS) and meta["dev_accuracy"] >= 0.9
    assert "Messages routed to German" in (art / "MODEL_CARD.md").read_text()

    test = _csv(tmp_path / "shop_de_test.csv", 2, 8, GERMAN_INTENTS, GERMAN_FILLERS)
    args = ["eval", "intent", "--pack", "shop_de", "--data", str(test), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 24 and out["accuracy"] >= 0.9

    readings = read_texts(load_models(("shop_de",)), list(UNSEEN.values()), pack="shop_de")
    assert [r.route for r in readings] == ["de"] * 3
    assert [r.intent for r in readings] == list(UNSEEN)
