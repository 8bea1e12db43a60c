"""A Sankey-style flow chart of the journey map as inline SVG (no scripts, no CDN): one column
per step, one block per state (height = sessions), bands between consecutive steps (width =
sessions that went from that state to that state). Counts are written on the blocks."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

COLORS = {
    "neutral": "#9aa5b1",
    "satisfied": "#3c9d5d",
    "confused": "#e0a030",
    "frustrated": "#d0504a",
    "anxious": "#8e5cc4",
    "disappointed": "#4a7bd0",
    "dropped": "#333333",
}
COL_W, NODE_W, H, TOP, GAP = 150, 14, 360, 40, 6


def sankey(report: dict[str, Any], title: str = "How states change from step to step") -> str:
    steps: list[str] = list(report.get("steps") or [])
    links = report.get("links") or []
    if not steps or not links:
        return ""
    cols = [*steps, "dropped"]
    col = {s: i for i, s in enumerate(cols)}
    size: dict[tuple[str, str], int] = defaultdict(int)
    for row in report.get("table", []):
        for state, n in row["states"].items():
            size[(row["step"], state)] += n
    for ln in links:
        if ln["to_step"] == "dropped":
            size[("dropped", "dropped")] += ln["sessions"]
    most = max(sum(n for (s, _), n in size.items() if s == c) + GAP * 6 for c in cols)
    scale = (H - TOP - 20) / max(1, most)
    y: dict[tuple[str, str], float] = {}
    for c in cols:
        yy = float(TOP)
        for key in sorted((k for k in size if k[0] == c), key=lambda k: -size[k]):
            y[key] = yy
            yy += size[key] * scale + GAP
    width = 40 + COL_W * (len(cols) - 1) + 120
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    out_off: dict[tuple[str, str], float] = defaultdict(float)
    in_off: dict[tuple[str, str], float] = defaultdict(float)
    for ln in sorted(links, key=lambda ln: (col[ln["from_step"]], -ln["sessions"])):
        a, b = (ln["from_step"], ln["from_state"]), (ln["to_step"], ln["to_state"])
        if a not in y or b not in y:
            continue
        w = ln["sessions"] * scale
        x0 = 20 + col[a[0]] * COL_W + NODE_W
        x1 = 20 + col[b[0]] * COL_W
        y0, y1 = y[a] + out_off[a] + w / 2, y[b] + in_off[b] + w / 2
        out_off[a] += w
        in_off[b] += w
        mid = (x0 + x1) / 2
        parts.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},'
            f'{y1:.1f}" fill="none" stroke="{COLORS.get(b[1], "#999")}" stroke-opacity="0.35" '
            f'stroke-width="{max(1.0, w):.1f}"><title>{escape(a[0])} ({escape(a[1])}) → '
            f"{escape(b[0])} ({escape(b[1])}): {ln['sessions']}</title></path>"
        )
    for (c, state), n in size.items():
        x = 20 + col[c] * COL_W
        h = max(1.0, n * scale)
        parts.append(
            f'<rect x="{x}" y="{y[(c, state)]:.1f}" width="{NODE_W}" height="{h:.1f}" '
            f'fill="{COLORS.get(state, "#999")}"><title>{escape(c)}: {escape(state)} {n}'
            "</title></rect>"
        )
        if h >= 9:
            parts.append(
                f'<text x="{x + NODE_W + 3}" y="{y[(c, state)] + min(h, 12) - 1:.1f}" '
                f'font-size="10">{escape(state)} {n}</text>'
            )
    for c in cols:
        parts.append(
            f'<text x="{20 + col[c] * COL_W}" y="{TOP - 8}" font-size="11" '
            f'font-weight="bold">{escape(c[:22])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
