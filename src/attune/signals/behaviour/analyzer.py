"""Streaming behaviour detectors: rage, dead and error clicks, quick backs, excessive scrolling,
repeated reading, long dwell, form thrash, help-seeking, cancellation pages, price hesitation.

Definitions and thresholds are in ``behaviour_config.BehaviourConfig``. Each detector reads one
event and the session's small state, and emits at most a few Signals with readable evidence.
Tracker conventions (Segment ``track`` event names): click {selector,x,y}, dead_click, client_error,
dom_change, scroll {direction}, field_edit {field}, validation_error {field}, section_view
{section}, hover {selector, duration_ms}. Page and screen views carry the path.
With ``abandonment_model`` on, a session's first checkout page is scored by the abandonment model.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from attune.events.admitted import GatedEvent
from attune.events.schemas import PageView, Screen, Track
from attune.signals.base import SessionScratch, Signal
from attune.signals.behaviour.abandonment import abandonment_signal, features_from_pages
from attune.signals.behaviour.config import BehaviourConfig
from attune.signals.taxonomy import BEHAVIOUR_TO_CX

NAVIGATION_EVENTS = frozenset({"dom_change", "navigation", "route_change"})
ERROR_EVENTS = frozenset({"client_error", "error", "js_error"})
ANALYTICS = ("PageValues", "ExitRates", "BounceRates")  # page properties the model can use
MAX_PAGES = 200  # page history kept per session for the abandonment features


@dataclass(slots=True)
class _Session:
    last_click: tuple[float, float | None, float | None, str] | None = None
    burst: int = 0
    burst_start: float = 0.0
    pending_click: tuple[float, str] | None = None  # waiting for navigation (dead click)
    path: str | None = None
    path_since: float = 0.0
    prev_path: str | None = None
    left_prev_at: float = 0.0
    visits: Counter[str] = field(default_factory=Counter)
    scroll_dir: str | None = None
    reversals: deque[float] = field(default_factory=deque)
    edits: Counter[str] = field(default_factory=Counter)
    field_errors: Counter[str] = field(default_factory=Counter)
    sections: Counter[str] = field(default_factory=Counter)
    fired: set[str] = field(default_factory=set)  # once-per-session detectors already fired
    pages: list[tuple[str, float]] = field(default_factory=list)  # (path, dwell s), capped


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class BehaviourAnalyzer:
    modality: ClassVar[str] = "behaviour"
    version: ClassVar[str] = "1"

    def __init__(self, config: BehaviourConfig | None = None) -> None:
        self.cfg = config or BehaviourConfig()
        self.patterns = self.cfg.compiled()
        self.typical_dwell: dict[str, float] = {}  # path -> running typical dwell (s), all sessions

    # -- entry point -------------------------------------------------------------------
    def analyze(self, event: GatedEvent, scratch: SessionScratch) -> list[Signal]:
        if event.kind != "behaviour":
            return []  # another modality's event
        st: _Session | None = scratch.get("behaviour")
        if st is None:
            st = scratch["behaviour"] = _Session()
        payload = event.payload
        out: list[Signal] = []
        at = event.at
        if st.pending_click is not None:
            self._check_dead_click(st, at, payload, out)
        if isinstance(payload, Track):
            self._track(st, payload, at, out)
        elif isinstance(payload, PageView | Screen):
            self._page(st, payload.path, at, out)
            if self.cfg.abandonment_model and "abandonment_risk" not in st.fired:
                self._abandonment(st, payload, at, out)
        return out

    def _abandonment(
        self, st: _Session, page: PageView | Screen, at: float, out: list[Signal]
    ) -> None:
        if not self.patterns.checkout.search(page.path):
            return
        st.fired.add("abandonment_risk")
        props = page.properties or {}
        analytics = {k: v for k in ANALYTICS if (v := _num(props.get(k))) is not None}
        out.append(abandonment_signal(features_from_pages(st.pages, extra=analytics), at))

    def _signal(
        self,
        name: str,
        value: float,
        conf: float,
        evidence: str,
        at: float,
        step: str | None,
        **details: Any,
    ) -> Signal:
        return Signal(
            modality="behaviour",
            name=name,
            value=min(1.0, value),
            confidence=conf,
            evidence=evidence,
            at=at,
            cx=dict(BEHAVIOUR_TO_CX[name]),
            source=f"behaviour/{name}@{self.version}",
            details={"step": step, **details},
        )

    # -- track events ------------------------------------------------------------------
    def _track(self, st: _Session, ev: Track, at: float, out: list[Signal]) -> None:
        name = ev.event.lower()
        props = ev.properties
        target = str(props.get("selector") or props.get("element") or props.get("label") or "?")
        if name == "click":
            self._click(st, at, _num(props.get("x")), _num(props.get("y")), target, out)
        elif name == "dead_click":
            out.append(
                self._signal(
                    "dead_click",
                    0.7,
                    0.8,
                    f"a click on {target} did nothing (reported by the page)",
                    at,
                    st.path,
                    target=target,
                )
            )
        elif name in ERROR_EVENTS:
            self._error(st, at, props, out)
        elif name in NAVIGATION_EVENTS:
            st.pending_click = None
        elif name == "scroll":
            self._scroll(st, at, str(props.get("direction", "")).lower(), out)
        elif name in ("field_edit", "form_change", "validation_error"):
            self._form(st, at, name, str(props.get("field") or target), out)
        elif name == "section_view":
            self._section(st, at, str(props.get("section") or target), out)
        elif name == "hover":
            ms = _num(props.get("duration_ms")) or 0.0
            self._hover(st, at, target, ms, out, marked=props.get("price") is True)

    def _click(
        self,
        st: _Session,
        at: float,
        x: float | None,
        y: float | None,
        target: str,
        out: list[Signal],
    ) -> None:
        cfg = self.cfg
        last = st.last_click
        close = False
        if last is not None:
            gap_ms = (at - last[0]) * 1000
            if last[1] is not None and x is not None and last[2] is not None and y is not None:
                near = ((x - last[1]) ** 2 + (y - last[2]) ** 2) ** 0.5 <= cfg.rage_max_px
            else:  # no coordinates: same element counts as near
                near = target == last[3]
            close = 0 <= gap_ms <= cfg.rage_max_gap_ms and near
        if close:
            st.burst += 1
        else:
            st.burst, st.burst_start = 1, at
        st.last_click = (at, x, y, target)
        st.pending_click = (at, target)
        if st.burst == cfg.rage_min_clicks or st.burst == 2 * cfg.rage_min_clicks:
            span = at - st.burst_start
            out.append(
                self._signal(
                    "rage_click",
                    0.5 + 0.1 * st.burst,
                    0.9,
                    f"{st.burst} clicks in {_seconds(span)} on {target}",
                    at,
                    st.path,
                    clicks=st.burst,
                    target=target,
                )
            )

    def _check_dead_click(self, st: _Session, at: float, payload: Any, out: list[Signal]) -> None:
        assert st.pending_click is not None
        clicked_at, target = st.pending_click
        navigated = isinstance(payload, PageView | Screen) or (
            isinstance(payload, Track) and payload.event.lower() in NAVIGATION_EVENTS
        )
        waited_ms = (at - clicked_at) * 1000
        if navigated and waited_ms <= self.cfg.dead_click_ms:
            st.pending_click = None
        elif waited_ms > self.cfg.dead_click_ms:
            st.pending_click = None
            if st.burst < self.cfg.rage_min_clicks:  # a rage burst is reported as such
                out.append(
                    self._signal(
                        "dead_click",
                        0.6,
                        0.6,
                        f"a click on {target} changed nothing for {waited_ms / 1000:.1f} s",
                        at,
                        st.path,
                        target=target,
                    )
                )

    def _error(self, st: _Session, at: float, props: dict[str, Any], out: list[Signal]) -> None:
        last = st.last_click
        if last is not None and (at - last[0]) * 1000 <= self.cfg.error_click_ms:
            msg = str(props.get("message") or "an error")[:80]
            out.append(
                self._signal(
                    "error_click",
                    0.7,
                    0.85,
                    f"a click on {last[3]} was followed by an error within "
                    f"{(at - last[0]) * 1000:.0f} ms ({msg})",
                    at,
                    st.path,
                    target=last[3],
                )
            )
            st.pending_click = None

    def _scroll(self, st: _Session, at: float, direction: str, out: list[Signal]) -> None:
        if direction not in ("up", "down"):
            return
        if st.scroll_dir is not None and direction != st.scroll_dir:
            st.reversals.append(at)
        st.scroll_dir = direction
        window = self.cfg.scroll_window_ms / 1000
        while st.reversals and at - st.reversals[0] > window:
            st.reversals.popleft()
        if len(st.reversals) == self.cfg.scroll_reversals:
            out.append(
                self._signal(
                    "excessive_scroll",
                    0.6,
                    0.7,
                    f"scrolled up and down {len(st.reversals)} times in {window:.0f} s"
                    f" on {st.path or 'this page'}",
                    at,
                    st.path,
                )
            )
            st.reversals.clear()

    def _form(self, st: _Session, at: float, name: str, fld: str, out: list[Signal]) -> None:
        cfg = self.cfg
        if name == "validation_error":
            st.field_errors[fld] += 1
            hit = st.field_errors[fld] == cfg.form_thrash_errors
            what = f"{st.field_errors[fld]} validation errors"
        else:
            st.edits[fld] += 1
            hit = st.edits[fld] == cfg.form_thrash_edits
            what = f"{st.edits[fld]} edits"
        if hit:
            out.append(
                self._signal(
                    "form_thrash", 0.65, 0.8, f"{what} on the field '{fld}'", at, st.path, field=fld
                )
            )

    def _section(self, st: _Session, at: float, section: str, out: list[Signal]) -> None:
        st.sections[section] += 1
        if st.sections[section] == self.cfg.repeat_visits:
            out.append(
                self._signal(
                    "repeated_reading",
                    0.55,
                    0.7,
                    f"read the section '{section}' {self.cfg.repeat_visits} times",
                    at,
                    st.path,
                    section=section,
                )
            )

    def _hover(
        self, st: _Session, at: float, target: str, ms: float, out: list[Signal], marked: bool
    ) -> None:
        # ``marked``: the page marks the element as a price (the tracker's data-attune-price)
        if ms >= self.cfg.price_hover_ms and (marked or self.patterns.price.search(target)):
            out.append(
                self._signal(
                    "price_hesitation",
                    0.65,
                    0.7,
                    f"lingered {ms / 1000:.1f} s over {target}",
                    at,
                    st.path,
                    target=target,
                )
            )

    # -- page views --------------------------------------------------------------------
    def _page(self, st: _Session, path: str, at: float, out: list[Signal]) -> None:
        cfg = self.cfg
        if st.path is not None and path != st.path:
            self._dwell(st, st.path, at - st.path_since, at, out)
            if len(st.pages) < MAX_PAGES:
                st.pages.append((st.path, at - st.path_since))
        if path == st.path:
            return
        # Back to the previous page quickly; a look at help, prices or terms and back is
        # reported by its own detector instead.
        checked = st.path is not None and (
            self.patterns.price.search(st.path) or self.patterns.help.search(st.path)
        )
        if (
            st.prev_path == path
            and not checked
            and (at - st.left_prev_at) * 1000 <= cfg.quick_back_ms
        ):
            out.append(
                self._signal(
                    "quick_back",
                    0.55,
                    0.7,
                    f"went back to {path} after {at - st.left_prev_at:.0f} s on {st.path}",
                    at,
                    path,
                    left=st.path,
                )
            )
        st.prev_path, st.left_prev_at = st.path, at
        st.path, st.path_since = path, at
        st.visits[path] += 1
        visits = st.visits[path]
        if visits == cfg.repeat_visits:
            out.append(
                self._signal(
                    "repeated_reading",
                    0.5,
                    0.65,
                    f"opened {path} {visits} times in this session",
                    at,
                    path,
                )
            )
        if self.patterns.price.search(path) and visits == cfg.price_revisits:
            out.append(
                self._signal(
                    "price_hesitation",
                    0.65,
                    0.75,
                    f"came back to the price/terms page {path}",
                    at,
                    path,
                )
            )
        self._once(
            st,
            "help_seeking",
            self.patterns.help.search(path) is not None,
            0.6,
            0.75,
            f"looked for help at {path}",
            at,
            path,
            out,
        )
        self._once(
            st,
            "cancel_page",
            self.patterns.cancel.search(path) is not None,
            0.75,
            0.85,
            f"opened the cancellation page {path}",
            at,
            path,
            out,
        )

    def _once(
        self,
        st: _Session,
        name: str,
        hit: bool,
        value: float,
        conf: float,
        evidence: str,
        at: float,
        path: str,
        out: list[Signal],
    ) -> None:
        if hit and name not in st.fired:
            st.fired.add(name)
            out.append(self._signal(name, value, conf, evidence, at, path))

    def _dwell(self, st: _Session, path: str, dwell: float, at: float, out: list[Signal]) -> None:
        cfg = self.cfg
        typical = self.typical_dwell.get(path, cfg.typical_dwell_default_s)
        if dwell >= max(cfg.long_dwell_factor * typical, cfg.long_dwell_min_s):
            out.append(
                self._signal(
                    "long_dwell",
                    min(1.0, 0.4 + 0.1 * dwell / typical),
                    0.55,
                    f"stayed {dwell:.0f} s on {path}, about {dwell / typical:.1f}x the usual"
                    f" {typical:.0f} s",
                    at,
                    path,
                    dwell_s=round(dwell, 1),
                )
            )
        # Running typical dwell per step (robust-ish: clipped EMA across all sessions).
        clipped = min(dwell, 4 * typical)
        self.typical_dwell[path] = 0.95 * typical + 0.05 * clipped


def _seconds(span: float) -> str:
    """A short span in words: clicks stamped in one batch are "under 0.1 s", not "0.0 s"."""
    return "under 0.1 s" if span < 0.05 else f"{span:.1f} s"
