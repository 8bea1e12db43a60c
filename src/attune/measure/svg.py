"""Tiny inline-SVG charts for self-contained HTML reports (no scripts, no CDN)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

W, BAR_H, GAP, LABEL_W = 640, 20, 6, 190


def _fmt(v: float, pct: bool) -> str:
    return f"{v:.1%}" if pct else f"{v:,.3g}"


def bars(
    items: Sequence[tuple[str, float]],
    title: str,
    pct: bool = False,
    intervals: Sequence[tuple[float, float] | None] | None = None,
    color: str = "#4a7bd0",
) -> str:
    """Horizontal bars (values may be negative), with optional interval whiskers."""
    if not items:
        return ""
    vals = [v for _, v in items if math.isfinite(v)]
    for iv in intervals or []:
        if iv:
            vals += [x for x in iv if math.isfinite(x)]
    lo, hi = min(0.0, *vals), max(0.0, *vals)
    span = (hi - lo) or 1.0
    plot_w = W - LABEL_W - 80

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return LABEL_W + (v - lo) / span * plot_w

    h = 30 + len(items) * (BAR_H + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    zero = x(0.0)
    for i, (label, v) in enumerate(items):
        y = 26 + i * (BAR_H + GAP)
        v = v if math.isfinite(v) else 0.0
        x0, x1 = sorted((zero, x(v)))
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(label[:30])}</text>"
        )
        parts.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{BAR_H}" fill="{color}"/>'
        )
        iv = intervals[i] if intervals and i < len(intervals) else None
        if iv:
            a, b = x(iv[0]), x(iv[1])
            parts.append(
                f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{y + BAR_H / 2}" '
                f'y2="{y + BAR_H / 2}" stroke="#222" stroke-width="2"/>'
            )
        parts.append(
            f'<text x="{W - 4}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(_fmt(v, pct))}</text>"
        )
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="22" y2="{h}" stroke="#888"/>')
    parts.append("</svg>")
    return "".join(parts)


def band(points: Sequence[tuple[float, float, float]], title: str, pct: bool = False) -> str:
    """Estimate with its (always-valid) interval over successive looks."""
    pts = [(e, lo, hi) for e, lo, hi in points if all(math.isfinite(v) for v in (e, lo, hi))]
    if len(pts) < 2:
        return ""
    h, pad = 220, 40
    lo_v = min(0.0, *(p[1] for p in pts))
    hi_v = max(0.0, *(p[2] for p in pts))
    span = (hi_v - lo_v) or 1.0

    def y(v: float) -> float:
        return 30 + (hi_v - v) / span * (h - 60)

    def x(i: int) -> float:
        return pad + i * (W - 2 * pad) / (len(pts) - 1)

    upper = " ".join(f"{x(i):.1f},{y(p[2]):.1f}" for i, p in enumerate(pts))
    lower = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in reversed(list(enumerate(pts))))
    line = " ".join(f"{x(i):.1f},{y(p[0]):.1f}" for i, p in enumerate(pts))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
        f'<polygon points="{upper} {lower}" fill="#4a7bd0" fill-opacity="0.25"/>'
        f'<polyline points="{line}" fill="none" stroke="#1d3f80" stroke-width="2"/>'
        f'<line x1="{pad}" x2="{W - pad}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888" '
        f'stroke-dasharray="4"/>'
        f'<text x="{W - pad}" y="{y(0) - 4:.1f}" font-size="11" text-anchor="end">0</text>'
        f'<text x="{pad}" y="{h - 8}" font-size="11">look 1</text>'
        f'<text x="{W - pad}" y="{h - 8}" font-size="11" text-anchor="end">'
        f"look {len(pts)} ({_fmt(pts[-1][0], pct)})</text></svg>"
    )


def heat_color(share: float) -> str:
    """White to red for a share in [0, 1]."""
    s = min(max(share, 0.0), 1.0)
    g = int(255 - 180 * s)
    return f"rgb(255,{g},{g})"
