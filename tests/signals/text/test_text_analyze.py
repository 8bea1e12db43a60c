"""`attune analyze` on a small generated conversations file, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.signals.text.conversations import ConversationError, read_conversations

ROWS = [
    ("c1", 1, "customer", "Hi, I ordered a jacket last week."),
    ("c1", 2, "agent", "Thanks, let me check that for you."),
    ("c1", 3, "customer", "It still hasn't arrived, that's annoying."),
    ("c1", 4, "agent", "I'm sorry about the delay."),
    ("c1", 5, "customer", "This is ridiculous, I want a refund now, worst service ever!"),
    ("c2", 1, "customer", "How do I change my delivery address?"),
    ("c2", 2, "agent", "You can do it under Settings."),
    ("c2", 3, "customer", "Great, thank you so much!"),
    ("c3", 2, "customer", "I want to cancel my order, my email is jane.doe@example.com"),
    ("c3", 1, "agent", "Hello, how can I help?"),
]


def _write(
    path: Path, rows: list[tuple], header: str = "conversation_id,turn,speaker,text"
) -> Path:
    lines = [header] + [",".join(f'"{v}"' for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_analyze_writes_json_and_html(tmp_path: Path) -> None:
    data = _write(tmp_path / "conv.csv", ROWS)
    result = CliRunner().invoke(app, ["analyze", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    s = report["summary"]
    assert s["conversations"] == 3 and s["customer_turns"] == 6 and s["agent_turns"] == 4
    convs = {c["conversation_id"]: c for c in report["conversations"]}
    c1 = convs["c1"]
    assert [a["turn"] for a in c1["arc"]] == [1, 3, 5]
    assert c1["frustration_began_at_turn"] in (3, 5)
    assert c1["escalation_turns"] == [5]
    assert convs["c2"]["frustration_began_at_turn"] is None
    assert "cancel_order" in convs["c3"]["intents"]
    assert convs["c3"]["arc"][0]["turn"] == 2  # turns sorted, agent turn 1 kept apart
    assert "jane.doe@example.com" not in json.dumps(report)  # quotes are redacted
    hm = s["heatmap"]
    assert hm["turns"][:3] == [3, 2, 1]
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html
    assert "http://" not in html and "https://" not in html  # self-contained


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            [("c1", 1, "customer", "hi")],
            "conversation_id,turn,who,text",
            "missing column(s) speaker",
        ),
        ([("c1", "x", "customer", "hi")], None, "row 2, column 'turn'"),
        ([("c1", 1, "customer", "hi"), ("c1", 2, "bot", "hi")], None, "row 3, column 'speaker'"),
        ([("c1", 1, "customer", "")], None, "row 2, column 'text' is empty"),
        ([("", 1, "customer", "hi")], None, "row 2, column 'conversation_id' is empty"),
    ],
)
def test_malformed_files(
    tmp_path: Path, rows: list[tuple], header: str | None, message: str
) -> None:
    args = (header,) if header else ()
    path = _write(tmp_path / "bad.csv", rows, *args)
    with pytest.raises(ConversationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_conversations(path)
    result = CliRunner().invoke(app, ["analyze", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "Traceback" not in result.output
