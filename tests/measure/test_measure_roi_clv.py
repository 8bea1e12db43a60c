"""ROI with a saved customer's lifetime value, discounting and a fading effect."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.measure.roi import RoiInput, clv, roi, value_inputs


def test_clv_is_the_discounted_sum_of_kept_margins() -> None:
    m, r, d = 10.0, 0.9, 0.01
    by_hand = sum(m * r**t / (1 + d) ** t for t in range(5000))
    assert clv(m, r, d) == pytest.approx(by_hand)
    assert clv(10.0, 0.0) == 10.0  # gone after this period: one margin
    with pytest.raises(ValueError, match="retention"):
        clv(10.0, 1.0)


def test_discounting_and_decay_lower_the_benefit_and_delay_payback() -> None:
    plain = RoiInput(1000, 0.02, (0.01, 0.03), 100, one_off_cost=5000, running_cost=100)
    r0 = roi(plain)
    assert r0.expected.total_benefit == pytest.approx(1000 * 0.02 * 100 * 12)
    assert r0.expected.payback_periods == pytest.approx(5000 / (2000 - 100))
    r1 = roi(RoiInput(**{**plain.__dict__, "discount_rate": 0.01, "effect_decay": 0.05}))
    by_hand = sum(2000 * 0.95**t / 1.01 ** (t + 1) for t in range(12))
    assert r1.expected.total_benefit == pytest.approx(by_hand)
    assert r0.expected.payback_periods is not None and r1.expected.payback_periods is not None
    assert r1.expected.payback_periods > r0.expected.payback_periods
    # conservative: the CI lower bound and twice the decay
    cons = sum(1000 * 0.01 * 100 * 0.9**t / 1.01 ** (t + 1) for t in range(12))
    assert r1.conservative.total_benefit == pytest.approx(cons)
    d = r1.to_dict()
    assert d["inputs"]["discount_rate"] == 0.01 and d["inputs"]["effect_decay"] == 0.05
    assert "fading" in d["summary"] and "lower bound" in d["cases"]["conservative"]


def test_an_effect_that_decays_below_the_running_cost_never_pays_back() -> None:
    r = roi(
        RoiInput(100, 0.1, (0.05, 0.2), 10, one_off_cost=1e6, running_cost=50, effect_decay=0.5)
    )
    assert r.expected.payback_periods is None
    assert r.expected.roi is not None and r.expected.roi < 0


def test_value_from_margin_and_retention_is_a_clv_echoed_in_the_output() -> None:
    v, info = value_inputs(None, 8.0, 0.95, 0.0)
    assert v == pytest.approx(8.0 / 0.05) and info and info["clv"] == v
    with pytest.raises(ValueError, match="retention"):
        value_inputs(None, 8.0, None, 0.0)
    r = CliRunner().invoke(
        app,
        [
            "roi",
            "--units-per-period",
            "500",
            "--margin-per-period",
            "8",
            "--retention",
            "0.95",
            "--uplift",
            "0.01",
            "--ci-low",
            "0.0",
            "--ci-high",
            "0.02",
            "--discount-rate",
            "0.008",
            "--effect-decay",
            "0.03",
            "--one-off-cost",
            "1000",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["inputs"]["clv"]["retention"] == 0.95
    assert out["inputs"]["value_per_unit"] == pytest.approx(clv(8, 0.95, 0.008))
    assert "CLV" in out["summary"]
