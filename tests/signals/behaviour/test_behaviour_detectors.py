"""Each behaviour detector against hand-built event sequences, with near-misses that must
not fire."""

from __future__ import annotations

from typing import Any

import pytest

from attune.events.admitted import GatedEvent
from attune.events.schemas import PageView, Track
from attune.signals.base import SessionScratch, Signal
from attune.signals.behaviour.analyzer import BehaviourAnalyzer
from attune.signals.behaviour.config import BehaviourConfig

T0 = 1_767_000_000.0


class Session:
    def __init__(self, config: BehaviourConfig | None = None) -> None:
        self.analyzer = BehaviourAnalyzer(config)
        self.scratch = SessionScratch()
        self.n = 0

    def _send(self, payload: Any, at: float) -> list[Signal]:
        self.n += 1
        ev = GatedEvent("behaviour", f"e{self.n}", "subj", "s1", T0 + at, None, None, payload)
        return self.analyzer.analyze(ev, self.scratch)

    def track(self, at: float, event: str, **props: Any) -> list[Signal]:
        return self._send(Track(messageId="x", anonymousId="a", event=event, properties=props), at)

    def page(self, at: float, path: str) -> list[Signal]:
        return self._send(PageView(messageId="x", anonymousId="a", properties={"path": path}), at)


def names(signals: list[Signal]) -> list[str]:
    return [s.name for s in signals]


def test_rage_click_fires_on_three_quick_close_clicks_with_readable_evidence() -> None:
    s = Session()
    s.page(0, "/checkout/pay")
    out = []
    for i, t in enumerate((1.0, 1.3, 1.6, 1.8)):
        out += s.track(t, "click", selector="#pay", x=100 + i, y=200)
    rage = [x for x in out if x.name == "rage_click"]
    assert len(rage) == 1
    assert rage[0].evidence == "3 clicks in 0.6 s on #pay"
    assert rage[0].cx["frustrated"] > rage[0].cx["confused"]


@pytest.mark.parametrize(
    ("times", "xs"),
    [
        ((1.0, 2.1, 3.2), (100, 100, 100)),  # each gap above 1000 ms
        ((1.0, 1.3, 1.6), (100, 140, 180)),  # each click 40 px from the previous
        ((1.0, 1.3), (100, 100)),  # only two clicks
    ],
)
def test_rage_click_near_misses_do_not_fire(times: tuple[float, ...], xs: tuple[int, ...]) -> None:
    s = Session()
    out = []
    for t, x in zip(times, xs, strict=True):
        out += s.track(t, "click", selector="#pay", x=x, y=200)
    assert "rage_click" not in names(out)


def test_rage_click_threshold_is_configurable() -> None:
    s = Session(BehaviourConfig(rage_min_clicks=5))
    out = []
    for t in (1.0, 1.2, 1.4, 1.6):
        out += s.track(t, "click", selector="#pay", x=1, y=1)
    assert "rage_click" not in names(out)
    assert "rage_click" in names(s.track(1.8, "click", selector="#pay", x=1, y=1))


def test_dead_click_when_nothing_changes_within_2500_ms() -> None:
    s = Session()
    s.page(0, "/cart")
    s.track(1.0, "click", selector="#apply-coupon", x=1, y=1)
    out = s.track(4.0, "scroll", direction="down")
    assert names(out) == ["dead_click"]
    assert "#apply-coupon" in out[0].evidence


def test_click_followed_by_navigation_is_not_dead() -> None:
    s = Session()
    s.page(0, "/cart")
    s.track(1.0, "click", selector="#next", x=1, y=1)
    assert "dead_click" not in names(s.page(1.5, "/checkout"))
    assert "dead_click" not in names(s.track(6.0, "scroll", direction="down"))


def test_dead_click_reported_by_tracker() -> None:
    assert names(Session().track(1.0, "dead_click", selector="#logo")) == ["dead_click"]


def test_error_click_within_one_second_and_not_after() -> None:
    s = Session()
    s.track(1.0, "click", selector="#pay", x=1, y=1)
    assert names(s.track(1.5, "client_error", message="TypeError")) == ["error_click"]
    late = Session()
    late.track(1.0, "click", selector="#pay", x=1, y=1)
    assert "error_click" not in names(late.track(2.2, "client_error"))


def test_quick_back_and_slow_back() -> None:
    s = Session()
    s.page(0, "/checkout/delivery")
    s.page(5, "/checkout/payment")
    out = s.page(9, "/checkout/delivery")
    assert "quick_back" in names(out)
    slow = Session()
    slow.page(0, "/checkout/delivery")
    slow.page(5, "/checkout/payment")
    assert "quick_back" not in names(slow.page(40, "/checkout/delivery"))


def test_excessive_scrolling_needs_four_reversals_in_the_window() -> None:
    s = Session()
    dirs = ["down", "up", "down", "up", "down"]
    out = []
    for i, d in enumerate(dirs):
        out += s.track(1 + i, "scroll", direction=d)
    assert names(out) == ["excessive_scroll"]
    slow = Session()
    out = []
    for i, d in enumerate(dirs):
        out += slow.track(1 + i * 4, "scroll", direction=d)  # reversals spread over 16 s
    assert "excessive_scroll" not in names(out)


def test_repeated_reading_of_a_section_and_of_a_page() -> None:
    s = Session()
    out = []
    for t in (1, 5, 9):
        out += s.track(t, "section_view", section="delivery-options")
    assert names(out) == ["repeated_reading"]
    p = Session()
    out = []
    for i, path in enumerate(["/a", "/b", "/a", "/b", "/a"]):
        out += p.page(i * 30, path)
    assert "repeated_reading" in names(out)
    once = Session()
    assert "repeated_reading" not in names(
        once.track(1, "section_view", section="x") + once.track(2, "section_view", section="x")
    )


def test_long_dwell_against_the_steps_typical_dwell() -> None:
    s = Session()
    s.page(0, "/checkout/payment")
    out = s.page(120, "/checkout/review")
    assert names(out) == ["long_dwell"]
    assert "120 s" in out[0].evidence
    short = Session()
    short.page(0, "/checkout/payment")
    assert "long_dwell" not in names(short.page(25, "/checkout/review"))


def test_form_thrash_on_edits_and_on_validation_errors() -> None:
    s = Session()
    out = []
    for t in range(4):
        out += s.track(t, "field_edit", field="iban")
    assert names(out) == ["form_thrash"]
    e = Session()
    out = e.track(1, "validation_error", field="zip") + e.track(2, "validation_error", field="zip")
    assert names(out) == ["form_thrash"]
    spread = Session()
    out = []
    for t, f in enumerate(["a", "b", "c", "a"]):
        out += spread.track(t, "field_edit", field=f)
    assert "form_thrash" not in names(out)


def test_help_seeking_and_cancellation_pages_fire_once() -> None:
    s = Session()
    assert names(s.page(0, "/help/payment")) == ["help_seeking"]
    assert "help_seeking" not in names(s.page(30, "/faq"))
    assert "cancel_page" in names(s.page(60, "/account/cancel"))
    assert Session().page(0, "/products/shoes") == []


def test_price_hesitation_from_hover_and_from_revisits() -> None:
    s = Session()
    assert names(s.track(1, "hover", selector="#price-total", duration_ms=2500)) == [
        "price_hesitation"
    ]
    assert s.track(2, "hover", selector="#price-total", duration_ms=800) == []
    assert s.track(3, "hover", selector="#logo", duration_ms=5000) == []
    p = Session()
    p.page(0, "/pricing")
    p.page(30, "/signup")
    assert "price_hesitation" in names(p.page(60, "/pricing"))


def test_every_signal_is_well_formed() -> None:
    s = Session()
    out = s.page(0, "/help")
    for t in (1.0, 1.2, 1.4):
        out += s.track(t, "click", selector="#x", x=1, y=1)
    for sig in out:
        assert 0 <= sig.value <= 1 and 0 <= sig.confidence <= 1
        assert sig.evidence and sig.modality == "behaviour"
        assert abs(sum(sig.cx.values()) - 1.0) < 1e-9


def _browse_then_checkout(s: Session, page_values: float | None) -> list[Signal]:
    for i, path in enumerate(["/product/1", "/product/2", "/category/shoes", "/cart"]):
        s.page(40.0 * i, path)
    props: dict[str, Any] = {"path": "/checkout/payment"}
    if page_values is not None:
        props["PageValues"] = page_values
    return s._send(PageView(messageId="x", anonymousId="a", properties=props), 200.0)


def test_abandonment_risk_is_scored_once_on_entering_checkout_when_enabled() -> None:
    assert "abandonment_risk" not in names(_browse_then_checkout(Session(), 0.0))  # off
    cfg = BehaviourConfig(abandonment_model=True)
    cold = [x for x in _browse_then_checkout(Session(cfg), 0.0) if x.name == "abandonment_risk"]
    warm = [x for x in _browse_then_checkout(Session(cfg), 60.0) if x.name == "abandonment_risk"]
    assert len(cold) == 1 and len(warm) == 1
    # shoppers whose pages carry value buy far more often in the data: lower risk
    assert warm[0].value < cold[0].value
    assert cold[0].evidence and cold[0].source.startswith("behaviour/abandonment@")
    s = Session(cfg)
    _browse_then_checkout(s, 0.0)
    assert "abandonment_risk" not in names(s.page(260.0, "/checkout/review"))  # once only
