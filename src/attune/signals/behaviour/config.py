"""Published, configurable definitions of the behaviour detectors (see docs/behaviour-signals.md).

Every threshold a detector uses lives here, so a deployer can tune them in the settings file
and a reader can see exactly what "rage click" means.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field


class BehaviourConfig(BaseModel):
    # Rage clicks: at least N clicks, each within max_gap of the previous and within max_px.
    rage_min_clicks: int = Field(3, ge=2)
    rage_max_gap_ms: float = 1000.0
    rage_max_px: float = 30.0
    # Dead clicks: reported by the tracker, or no navigation/DOM change within this time.
    dead_click_ms: float = 2500.0
    # Error clicks: a click followed by a client error within this time.
    error_click_ms: float = 1000.0
    # Quick backs: back to the previous page within this time.
    quick_back_ms: float = 10_000.0
    # Excessive scrolling: this many direction reversals within the window.
    scroll_reversals: int = 4
    scroll_window_ms: float = 10_000.0
    # Repeated reading: the same step/section entered this many times in a session.
    repeat_visits: int = 3
    # Long dwell: dwell above factor x the step's typical dwell, and at least min seconds.
    long_dwell_factor: float = 3.0
    long_dwell_min_s: float = 20.0
    typical_dwell_default_s: float = 15.0
    # Form thrash: this many edits or validation errors on one field.
    form_thrash_edits: int = 4
    form_thrash_errors: int = 2
    # Help-seeking and cancellation pages, and price/terms elements (regular expressions).
    help_pattern: str = r"(help|faq|support|contact|hilfe|kontakt)"
    cancel_pattern: str = r"(cancel|unsubscribe|close[-_]?account|terminate|kuendig|kündig)"
    price_pattern: str = r"(price|pricing|plan|tariff|terms|fee|cost|preis|agb)"
    # Price hesitation: hovering/dwelling on a price element for at least this long,
    # or returning to a price/terms page this many times.
    price_hover_ms: float = 1500.0
    price_revisits: int = 2
    # Abandonment risk (the online-shoppers model, docs/measurement.md): scored once per session
    # when it first enters a checkout step, from its page counts and dwell so far, plus
    # PageValues / ExitRates / BounceRates if the tracker sends them as page properties.
    # Off by default: without those analytics figures the model sees only half its evidence.
    abandonment_model: bool = False
    checkout_pattern: str = r"(checkout|payment|kasse)"

    def compiled(self) -> CompiledPatterns:
        return CompiledPatterns(self)


class CompiledPatterns:
    def __init__(self, cfg: BehaviourConfig) -> None:
        self.help = re.compile(cfg.help_pattern, re.I)
        self.cancel = re.compile(cfg.cancel_pattern, re.I)
        self.price = re.compile(cfg.price_pattern, re.I)
        self.checkout = re.compile(cfg.checkout_pattern, re.I)
