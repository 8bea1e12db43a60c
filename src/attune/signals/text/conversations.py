"""``attune analyze``: read historical conversations, score every customer turn, summarise.

Input: CSV ``conversation_id,turn,speaker,text`` (optional ``timestamp``), speaker ``customer``
or ``agent``. Output: ``report.json`` and a self-contained ``report.html`` (see report_html).
Only customer turns are scored (agent turns are counted, not judged). Quoted snippets in
the report are PII-redacted.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attune.signals.taxonomy import CX_STATES
from attune.signals.text.reading import Reading, escalates, negative_share

REQUIRED = ("conversation_id", "turn", "speaker", "text")
FRUSTRATED = 0.45  # heat at which a turn counts as frustrated (same scale as escalation)
POSITIONS = 8  # heatmap columns: customer turn 1..7 and "8+"
BATCH = 128


class ConversationError(ValueError):
    """A conversations file that cannot be analysed (names the row and column)."""


@dataclass
class Turn:
    turn: int
    speaker: str
    text: str
    timestamp: str = ""
    reading: Reading | None = None


@dataclass
class Conversation:
    id: str
    turns: list[Turn] = field(default_factory=list)

    @property
    def customer(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker == "customer"]


def read_conversations(path: Path) -> list[Conversation]:
    if not path.is_file():
        raise ConversationError(f"{path}: no such file")
    convs: dict[str, Conversation] = {}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ConversationError(
                    f"{path}: missing column(s) {', '.join(missing)}; expected "
                    f"{','.join(REQUIRED)} (optional timestamp), found "
                    f"{','.join(reader.fieldnames or []) or 'no header'}"
                )
            for row_no, row in enumerate(reader, start=2):
                convs.setdefault(_conv_id(row, row_no), Conversation(row["conversation_id"]))
                convs[row["conversation_id"]].turns.append(_turn(row, row_no))
    except UnicodeDecodeError as exc:
        raise ConversationError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not convs:
        raise ConversationError(f"{path}: no data rows")
    for conv in convs.values():
        conv.turns.sort(key=lambda t: t.turn)
    return list(convs.values())


def _conv_id(row: dict[str, Any], row_no: int) -> str:
    if None in row:
        raise ConversationError(f"row {row_no}: more fields than columns (unquoted comma?)")
    cid = (row.get("conversation_id") or "").strip()
    if not cid:
        raise ConversationError(f"row {row_no}, column 'conversation_id' is empty")
    row["conversation_id"] = cid
    return cid


def _turn(row: dict[str, Any], row_no: int) -> Turn:
    try:
        turn = int(str(row.get("turn") or "").strip())
    except ValueError:
        raise ConversationError(
            f"row {row_no}, column 'turn': {row.get('turn')!r} is not a whole number"
        ) from None
    speaker = (row.get("speaker") or "").strip().lower()
    if speaker not in ("customer", "agent"):
        raise ConversationError(
            f"row {row_no}, column 'speaker': {row.get('speaker')!r} (use customer or agent)"
        )
    text = (row.get("text") or "").strip()
    if not text:
        raise ConversationError(f"row {row_no}, column 'text' is empty")
    return Turn(turn, speaker, text, (row.get("timestamp") or "").strip())


def _snippet(text: str, limit: int = 160) -> str:
    try:
        from attune.privacy.redaction import redact

        text = redact(text)
    except Exception:  # redaction unavailable: keep only a short, clipped quote
        limit = 80
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_frustrated(r: Reading) -> bool:
    return r.heat >= FRUSTRATED


def wilson_low(k: int, n: int, z: float = 1.64) -> float:
    """Lower bound of the share k/n (Wilson, ~90% one-sided): a 2-of-3 ranks below 20-of-40."""
    if n == 0:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    margin = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (centre - margin) / (1 + z * z / n)


def summarise_conversation(conv: Conversation) -> dict[str, Any]:
    arc, heats, escalations = [], [], []
    start: int | None = None
    for pos, t in enumerate(conv.customer, start=1):
        r = t.reading
        assert r is not None
        heats.append(r.heat)
        top_state = max(r.cx, key=lambda s: r.cx[s])
        if start is None and is_frustrated(r):
            start = t.turn
        if escalates(heats[-3:]):
            escalations.append(t.turn)
        arc.append({"turn": t.turn, "position": pos, "state": top_state, **r.to_dict()})
    worst = max(range(len(heats)), key=heats.__getitem__) if heats else None
    last = conv.customer[-1].reading if conv.customer else None
    return {
        "conversation_id": conv.id,
        "turns": len(conv.turns),
        "customer_turns": len(arc),
        "peak_heat": round(max(heats), 3) if heats else 0.0,
        "frustration_began_at_turn": start,
        "escalation_turns": escalations,
        "ended_negative": bool(arc) and negative_share(arc[-1]["cx"]) >= 0.5,
        "recovered": start is not None and last is not None and not is_frustrated(last),
        "intents": sorted({a["intent"] for a in arc if a["intent"]}),
        # what the customer came for: the first intent among their first two turns
        "opening_intent": next((a["intent"] for a in arc[:2] if a["intent"]), None),
        "generic_intents": sorted({a["generic_intent"] for a in arc if a["generic_intent"]}),
        "topic": _topic(conv),
        "worst_quote": _snippet(conv.customer[worst].text) if worst is not None else "",
        "arc": arc,
    }


def _topic(conv: Conversation) -> str | None:
    """A company handle the customer addressed (Twitter-style data), else None."""
    for t in conv.customer:
        for word in t.text.split():
            if word.startswith("@") and not word[1:].strip(".,:;!?").isdigit():
                return word.strip(".,:;!?").lower()
    return None


def _rank(groups: dict[str, list[dict[str, Any]]], min_n: int) -> list[dict[str, Any]]:
    rows = []
    for key, convs in groups.items():
        if len(convs) < min_n:
            continue
        hit = sum(c["frustration_began_at_turn"] is not None for c in convs)
        rows.append(
            {
                "name": key,
                "conversations": len(convs),
                "frustrated_share": round(hit / len(convs), 3),
                "frustrated_share_low": round(wilson_low(hit, len(convs)), 3),
                "mean_peak_heat": round(statistics.fmean(c["peak_heat"] for c in convs), 3),
            }
        )
    return sorted(rows, key=lambda r: (-r["frustrated_share_low"], -r["conversations"]))


def aggregate(convs: list[dict[str, Any]], agent_turns: int) -> dict[str, Any]:
    n = len(convs)
    with_customer = [c for c in convs if c["customer_turns"]]
    started = [c["frustration_began_at_turn"] for c in with_customer]
    began = [s for s in started if s is not None]
    by_intent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in with_customer:
        by_intent[c["opening_intent"] or "(no clear intent)"].append(c)
        if c["topic"]:
            by_topic[c["topic"]].append(c)
    heat = [[0.0] * POSITIONS for _ in CX_STATES]
    counts = [0] * POSITIONS
    for c in with_customer:
        for a in c["arc"]:
            col = min(a["position"], POSITIONS) - 1
            counts[col] += 1
            for i, s in enumerate(CX_STATES):
                heat[i][col] += a["cx"][s]
    heatmap = {
        "states": list(CX_STATES),
        "positions": [str(i) for i in range(1, POSITIONS)] + [f"{POSITIONS}+"],
        "turns": counts,
        "mean_cx": [
            [round(v / counts[j], 3) if counts[j] else None for j, v in enumerate(row)]
            for row in heat
        ],
    }
    sentiment = Counter(a["sentiment"] for c in with_customer for a in c["arc"])
    k = max(1, len(with_customer))
    return {
        "conversations": n,
        "customer_turns": sum(c["customer_turns"] for c in convs),
        "agent_turns": agent_turns,
        "frustrated_share": round(len(began) / k, 3),
        "escalating_share": round(sum(bool(c["escalation_turns"]) for c in with_customer) / k, 3),
        "ended_negative_share": round(sum(c["ended_negative"] for c in with_customer) / k, 3),
        "median_frustration_turn": statistics.median(began) if began else None,
        "recovered_share_of_frustrated": round(
            sum(c["recovered"] for c in with_customer) / len(began), 3
        )
        if began
        else None,
        "frustrated_at_first_message_share": round(
            sum(
                1
                for c in with_customer
                if c["frustration_began_at_turn"] is not None
                and c["frustration_began_at_turn"] == c["arc"][0]["turn"]
            )
            / k,
            3,
        ),
        "sentiment_of_customer_turns": dict(sentiment),
        "intents": _rank(by_intent, min_n=3),
        "topics": _rank(by_topic, min_n=3),
        "heatmap": heatmap,
    }


def analyze_file(
    path: Path, out: Path, pack: str = "customer_service", limit: int = 0, progress: Any = None
) -> dict[str, Any]:
    from attune.models.runtime import ModelNotFound
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts
    from attune.signals.text.report_html import render

    conversations = read_conversations(path)
    if limit:
        conversations = conversations[:limit]
    try:
        models = load_models((pack,), threads=2)
    except ModelNotFound as exc:
        raise ConversationError(str(exc)) from exc
    todo = [t for c in conversations for t in c.customer]
    if progress is not None:
        progress.start()
        task = progress.add_task("reading customer turns", total=len(todo))
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        for t, r in zip(chunk, read_texts(models, [t.text for t in chunk], pack), strict=True):
            t.reading = r
        if progress is not None:
            progress.advance(task, len(chunk))
    if progress is not None:
        progress.stop()
    convs = [summarise_conversation(c) for c in conversations]
    agent_turns = sum(len(c.turns) - len(c.customer) for c in conversations)
    summary = aggregate(convs, agent_turns)
    summary["source"] = path.name
    summary["models"] = {
        "emotion": models.emotion.version,
        "intent_pack": pack,
        "intent": models.packs[pack].version,
    }
    report = {"summary": summary, "conversations": convs}
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / "report.html").write_text(render(report), encoding="utf-8")
    return summary
