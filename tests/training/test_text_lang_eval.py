"""`attune eval sentiment`, `attune eval cx-state` and `attune eval intent` on German rows,
through the real CLI and the shipped models, on small files the tests write."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from attune.cli import app

SENTIMENT = """text,label
"This is ridiculous, I want a refund now, worst service ever!",negative
"Thank you so much, that was really helpful!",positive
Das ist eine Frechheit. Ich warte seit drei Wochen auf mein Geld!,negative
"Vielen Dank, das hat super geklappt!",positive
Je suis très déçu de votre service.,negative
"""
CX = """text,state,lang
"This is ridiculous, I want a refund now, worst service ever!",frustrated,
"Thank you so much, that was really helpful!",satisfied,en
"Das ist jetzt das dritte Mal, dass die Lieferung verschoben wird. Mir reicht es!",frustrated,
"Vielen Dank, das hat super geklappt!",satisfied,
Je suis très déçu de votre service.,disappointed,
"""
INTENT = """text,labels
Ich möchte meine Bestellung stornieren.,cancel_order
Wie kann ich mein Passwort zurücksetzen?,recover_password
I want to cancel my order,cancel_order
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split()) if result.exit_code else result.stdout


def _json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_eval_sentiment_reports_the_contract(tmp_path: Path) -> None:
    data = tmp_path / "s.csv"
    data.write_text(SENTIMENT, encoding="utf-8")
    code, out = _run("eval", "sentiment", "--data", str(data), "--json")
    assert code == 0, out
    result = _json(out)
    assert result["n"] == 5
    assert set(result) >= {"n", "accuracy", "macro_f1", "per_class"}
    assert set(result["per_class"]) == {"negative", "neutral", "positive"}
    assert result["uncertain_share"] == 0.2  # the French row is not read
    assert result["accuracy"] >= 0.6


def test_eval_cx_state_reports_by_language(tmp_path: Path) -> None:
    data = tmp_path / "cx.csv"
    data.write_text(CX, encoding="utf-8")
    code, out = _run("eval", "cx-state", "--data", str(data), "--json")
    assert code == 0, out
    result = _json(out)
    assert result["n"] == 5
    assert set(result) >= {"accuracy", "macro_f1", "per_class", "uncertain_share", "by_lang"}
    assert set(result["per_class"]) == {
        "frustrated",
        "confused",
        "anxious",
        "disappointed",
        "satisfied",
        "neutral",
    }
    by_lang = result["by_lang"]
    assert set(by_lang) == {"en", "de", "fr"}  # the column where given, else detected
    assert by_lang["fr"] == {"n": 1, "accuracy": 0.0, "macro_f1": 0.0, "uncertain_share": 1.0}
    assert by_lang["de"]["n"] == 2 and by_lang["de"]["uncertain_share"] == 0.0
    assert result["uncertain_share"] == 0.2


def test_eval_intent_reads_german_rows_with_the_multilingual_head(tmp_path: Path) -> None:
    data = tmp_path / "i.csv"
    data.write_text(INTENT, encoding="utf-8")
    code, out = _run("eval", "intent", "--pack", "customer_service", "--data", str(data), "--json")
    assert code == 0, out
    result = _json(out)
    assert result["routed_rows"] == 2
    assert result["accuracy"] == 1.0


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text,label\n\xff\xfe broken,negative\n")
    code, out = _run("eval", "sentiment", "--data", str(bad), "--json")
    assert code == 2 and "not valid UTF-8" in out
    cols = tmp_path / "cols.csv"
    cols.write_text("text,mood\nhello,happy\n", encoding="utf-8")
    code, out = _run("eval", "cx-state", "--data", str(cols), "--json")
    assert code == 2 and "missing column 'state'" in out
    labels = tmp_path / "labels.csv"
    labels.write_text("text,state\nhello,angry\n", encoding="utf-8")
    code, out = _run("eval", "cx-state", "--data", str(labels), "--json")
    assert code == 2 and "unknown state 'angry'" in out
    code, out = _run("eval", "sentiment", "--data", str(tmp_path / "none.csv"), "--json")
    assert code == 2 and "no such file" in out
