"""The self-contained HTML report of ``attune analyze`` (inline CSS and SVG, no CDN, no JS)."""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1100px;color:#1d2430;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde3ea}
.muted{color:#687385}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde3ea;border-radius:8px;padding:10px 14px;min-width:140px}
.card b{display:block;font-size:22px}.card span{color:#687385;font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{padding:4px 8px;text-align:left;
border-bottom:1px solid #eef1f5;vertical-align:top}th{font-weight:600;color:#3d4757}
.bar{height:10px;background:#e4572e;border-radius:3px;display:inline-block}
.hm td{text-align:center;font-variant-numeric:tabular-nums;border:1px solid #fff;min-width:52px}
.q{font-style:italic;color:#3d4757}.tag{background:#eef1f5;border-radius:4px;padding:1px 5px;
margin-right:3px;font-size:12px;white-space:nowrap}
"""
STATE_COLOUR = {
    "frustrated": (228, 87, 46),
    "confused": (243, 167, 18),
    "anxious": (155, 89, 182),
    "disappointed": (41, 128, 185),
    "satisfied": (39, 174, 96),
    "neutral": (127, 140, 141),
}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _cards(s: dict[str, Any]) -> str:
    items = [
        (f"{s['conversations']}", "conversations"),
        (f"{s['customer_turns']}", "customer turns read"),
        (_pct(s["frustrated_share"]), "became frustrated at some point"),
        (_pct(s["frustrated_at_first_message_share"]), "were frustrated from the first message"),
        (_pct(s["escalating_share"]), "escalated over 3 turns"),
        (_pct(s["recovered_share_of_frustrated"]), "of the frustrated ended calmer"),
        (_pct(s["ended_negative_share"]), "ended on a negative note"),
        (str(s["median_frustration_turn"] or "–"), "median turn where frustration began"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in items
        )
        + "</div>"
    )


def _ranking(rows: list[dict[str, Any]], what: str, limit: int = 15) -> str:
    if not rows:
        return f'<p class="muted">No {what} with at least 3 conversations.</p>'
    out = [
        f"<table><tr><th>{what}</th><th>conversations</th><th>frustrated</th>"
        "<th></th><th>mean peak heat</th></tr>"
    ]
    for r in rows[:limit]:
        width = int(160 * r["frustrated_share"])
        out.append(
            f"<tr><td>{escape(r['name'])}</td><td>{r['conversations']}</td>"
            f"<td>{_pct(r['frustrated_share'])}</td>"
            f'<td><span class="bar" style="width:{width}px"></span></td>'
            f"<td>{r['mean_peak_heat']:.2f}</td></tr>"
        )
    return "".join(out) + "</table>"


def _heatmap(hm: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(p)}</th>" for p in hm["positions"])
    rows = [f'<table class="hm"><tr><th>state \\ customer turn</th>{head}</tr>']
    for state, values in zip(hm["states"], hm["mean_cx"], strict=True):
        r, g, b = STATE_COLOUR[state]
        cells = []
        for v in values:
            if v is None:
                cells.append("<td></td>")
                continue
            alpha = min(1.0, v * 1.6)
            cells.append(f'<td style="background:rgba({r},{g},{b},{alpha:.2f})">{v:.2f}</td>')
        rows.append(f"<tr><th>{state}</th>{''.join(cells)}</tr>")
    turns = "".join(f"<td class='muted'>{n}</td>" for n in hm["turns"])
    rows.append(f"<tr><th class='muted'>turns</th>{turns}</tr></table>")
    return "".join(rows)


def _spark(arc: list[dict[str, Any]], began: int | None) -> str:
    w, h = 160, 34
    if not arc:
        return ""
    step = w / max(1, len(arc) - 1)
    pts = [
        (i * step if len(arc) > 1 else w / 2, h - 3 - a["heat"] * (h - 6))
        for i, a in enumerate(arc)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3.2 if a["turn"] == began else 2}" '
        f'fill="{"#e4572e" if a["heat"] >= 0.45 else "#7f8c8d"}"/>'
        for (x, y), a in zip(pts, arc, strict=True)
    )
    return (
        f'<svg width="{w + 8}" height="{h}" viewBox="-4 0 {w + 8} {h}">'
        f'<line x1="-4" x2="{w + 4}" y1="{h - 3 - 0.45 * (h - 6):.1f}" '
        f'y2="{h - 3 - 0.45 * (h - 6):.1f}" stroke="#f2c4b5" stroke-dasharray="3 3"/>'
        f'<polyline fill="none" stroke="#3d4757" stroke-width="1.2" points="{line}"/>{dots}</svg>'
    )


def _review(convs: list[dict[str, Any]], limit: int = 20) -> str:
    ranked = sorted(
        (c for c in convs if c["customer_turns"]),
        key=lambda c: (bool(c["escalation_turns"]), c["peak_heat"]),
        reverse=True,
    )[:limit]
    out = [
        "<table><tr><th>conversation</th><th>heat by customer turn</th><th>began</th>"
        "<th>intents</th><th>hottest customer message (redacted)</th></tr>"
    ]
    for c in ranked:
        seen = [c["opening_intent"]] if c["opening_intent"] else []
        seen += [i for i in c["intents"] if i not in seen]
        tags = "".join(f'<span class="tag">{escape(i)}</span>' for i in seen[:4]) or "–"
        esc = (
            f" · escalated at {', '.join(map(str, c['escalation_turns']))}"
            if c["escalation_turns"]
            else ""
        )
        out.append(
            f"<tr><td>{escape(c['conversation_id'])}<br><span class='muted'>"
            f"{c['turns']} turns{esc}</span></td>"
            f"<td>{_spark(c['arc'], c['frustration_began_at_turn'])}</td>"
            f"<td>{c['frustration_began_at_turn'] or '–'}</td><td>{tags}</td>"
            f"<td class='q'>“{escape(c['worst_quote'])}”</td></tr>"
        )
    return "".join(out) + "</table>"


def render(report: dict[str, Any]) -> str:
    s = report["summary"]
    sentiment = ", ".join(f"{k} {v}" for k, v in sorted(s["sentiment_of_customer_turns"].items()))
    topics = (
        "<h2>Topics (company accounts addressed) that frustrate most</h2>"
        + _ranking(s["topics"], "topic")
        if s["topics"]
        else ""
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Attune: conversation analysis of {escape(s["source"])}</title><style>{CSS}</style></head>
<body><h1>How customers felt in {escape(s["source"])}</h1>
<p class="muted">{s["conversations"]} conversations, {s["customer_turns"]} customer turns read
({s["agent_turns"]} agent turns kept apart). Emotion model {escape(s["models"]["emotion"])},
intent pack {escape(s["models"]["intent_pack"])} {escape(s["models"]["intent"])}.
Customer turns by tone: {escape(sentiment)}.</p>
{_cards(s)}
<h2>Intents that frustrate most</h2>
<p class="muted">By what the customer came for (the first intent among their first two turns):
share of those conversations in which a customer turn read as frustrated (heat ≥ 0.45),
ranked by a cautious lower bound of that share so that small groups do not top the list by
chance. Intents come from the {escape(s["models"]["intent_pack"])} pack.</p>
{_ranking(s["intents"], "intent")}
{topics}
<h2>State by customer turn</h2>
<p class="muted">Mean weight of each customer-experience state at the n-th customer turn of a
conversation. Darker = stronger. Rising frustration to the right means conversations get worse
as they go on.</p>
{_heatmap(s["heatmap"])}
<h2>Conversations to review first</h2>
<p class="muted">Escalating conversations first, then by peak heat. The line is the heat of each
customer turn (0 at the bottom, 1 at the top; dashed: the 0.45 frustration line; the larger dot
marks where frustration began).</p>
{_review(report["conversations"])}
<h2>How to read this</h2>
<p class="muted">Heat = how strongly a customer message reads as anger, annoyance,
disgust or disappointment (combined probabilities of the emotion model; apologies, worry and
plain disagreement do not count). A turn counts as frustrated when its heat is 0.45 or more.
A conversation escalates when three customer turns in a row rise by 0.25 or more and end at
0.45 or more. Text models estimate how a message reads, not how a person feels; they were
trained on Reddit comments (emotion) and synthetic support requests (intent): check quotes
before acting.</p>
</body></html>"""
