"""A company pack trained on German rows answers German messages (issue 16, item 5): the same
`attune train intent --pack NAME --data CSV` a company runs, then `attune eval intent` and the
run-time reading of German messages, through the real CLI, encoders and language ID."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attune.cli import app

INTENTS = {
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
FILLERS = ["", "bitte", "heute", "danke", "schnell", "jetzt", "für mich", "noch", "eigentlich"]
UNSEEN = {  # phrasings that appear in no template: the head must generalise a little
    "paket_verfolgen": "Meine Bestellung ist noch nicht da, wo steckt das Paket denn?",
    "tarif_wechseln": "Kann ich meinen Vertrag auf einen anderen Tarif umstellen?",
    "oeffnungszeiten": "Bis wie viel Uhr hat Ihr Geschäft am Samstag geöffnet?",
}


def _csv(path: Path, seed: int, per_label: int) -> Path:
    rng = random.Random(seed)
    rows = ["text,labels"]
    for label, templates in INTENTS.items():
        for _ in range(per_label):
            text = rng.choice(templates).format(x=rng.choice(FILLERS)).strip()
            rows.append(f'"{text}",{label}')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATTUNE_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def test_a_german_company_pack_reads_german_messages(tmp_path: Path, models_dir: Path) -> None:
    from attune.signals.text import multilingual
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts

    runner = CliRunner()
    data = _csv(tmp_path / "shop_de.csv", seed=1, per_label=20)
    result = runner.invoke(app, ["train", "intent", "--data", str(data), "--pack", "shop_de"])
    assert result.exit_code == 0, result.output
    art = models_dir / "intent-shop_de"
    assert (art / multilingual.PACK_HEAD).is_file()
    meta = json.loads((art / multilingual.PACK_META).read_text())
    assert meta["labels"] == sorted(INTENTS) and meta["dev_accuracy"] >= 0.9
    assert "Messages routed to German" in (art / "MODEL_CARD.md").read_text()

    test = _csv(tmp_path / "shop_de_test.csv", seed=2, per_label=8)
    args = ["eval", "intent", "--pack", "shop_de", "--data", str(test), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 24 and out["accuracy"] >= 0.9

    readings = read_texts(load_models(("shop_de",)), list(UNSEEN.values()), pack="shop_de")
    assert [r.route for r in readings] == ["de"] * 3
    assert [r.intent for r in readings] == list(UNSEEN)
