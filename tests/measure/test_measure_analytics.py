"""ROI, heatmap, churn early warning and model quality on data with known answers."""

from __future__ import annotations

import csv
import io
import random

import pytest
from sklearn.metrics import roc_auc_score

from attune.measure.churn import CustomerSession, churn_warning
from attune.measure.customers import simulate_customers
from attune.measure.heatmap import Touch, bottlenecks, heatmap, to_csv
from attune.measure.quality import (
    Judgement,
    drift_by_family,
    ece,
    propose_threshold,
    psi,
    quality_report,
)
from attune.measure.roi import RoiInput, roi, uplift_from_lift
from attune.measure.stats import two_proportion_test

NOW = 1_800_000_000.0


def test_roi_expected_conservative_and_payback() -> None:
    r = roi(
        RoiInput(
            units_per_period=10000,
            uplift=0.01,
            uplift_ci=(0.002, 0.018),
            value_per_unit=50,
            one_off_cost=20000,
            running_cost=1000,
            periods=12,
        )
    )
    # 10000 x 0.01 x 50 = 5000 per month; cost 20000 + 12000.
    assert r.expected.benefit_per_period == pytest.approx(5000)
    assert r.expected.roi == pytest.approx((60000 - 32000) / 32000)
    assert r.expected.payback_periods == pytest.approx(20000 / 4000)
    assert r.conservative.benefit_per_period == pytest.approx(1000)
    assert r.conservative.payback_periods is None
    assert r.conservative.roi is not None and r.conservative.roi < 0
    assert "does not pay back" in r.summary
    with pytest.raises(ValueError, match="outside its interval"):
        RoiInput(1, 0.5, (0.0, 0.1), 1)


def test_uplift_from_a_dropout_lift_is_sign_flipped() -> None:
    lift = two_proportion_test(250, 1000, 200, 1000, metric="dropout").to_dict()
    up, (lo, hi) = uplift_from_lift(lift, higher_is_better=False)
    assert up == pytest.approx(0.05) and lo < up < hi
    assert lo == pytest.approx(-lift["absolute_ci"][1])


def _journey(seed: int = 0) -> list[Touch]:
    rng = random.Random(seed)
    touches = []
    for i in range(400):
        sid = f"s{i}"
        for step in ("/cart", "/checkout/payment", "/checkout/review"):
            bad = rng.random() < (0.45 if step == "/checkout/payment" else 0.08)
            state = "frustrated" if bad else "neutral"
            touches.append(Touch(sid, step=step, page=step, state=state, intensity=0.6))
            if bad:
                touches.append(
                    Touch(sid, step=step, page=step, element="#pay", signal="rage_click")
                )
            if bad and rng.random() < 0.3:
                touches.append(Touch(sid, step=step, dropped=True))
                break
    return touches


def test_heatmap_ranks_the_payment_step_as_the_bottleneck() -> None:
    cells = heatmap(_journey())
    assert cells[0].touchpoint == "/checkout/payment"
    pay = cells[0]
    assert 0.35 < pay.state_share["frustrated"] < 0.55
    assert pay.negative_share == pytest.approx(pay.state_share["frustrated"])
    assert pay.frustration_per_session == pytest.approx(pay.sessions_with_frustration)
    assert 0.08 < pay.dropout_rate < 0.2
    top = bottlenecks(cells, top=1)[0]
    assert top["rank"] == 1 and "frustrated" in top["evidence"]
    elements = heatmap(_journey(), level="element")
    assert [c.touchpoint for c in elements] == ["#pay"]


def test_heatmap_csv_round_trips() -> None:
    cells = heatmap(_journey())
    rows = list(csv.DictReader(io.StringIO(to_csv(cells))))
    assert len(rows) == 3 and rows[0]["touchpoint"] == "/checkout/payment"
    assert float(rows[0]["share_frustrated"]) == pytest.approx(
        cells[0].state_share["frustrated"], abs=1e-4
    )
    with pytest.raises(ValueError, match="level"):
        heatmap([], level="screen")  # type: ignore[arg-type]


def test_churn_warning_finds_customers_with_known_drift() -> None:
    customers, sessions = simulate_customers(600, seed=21, now=NOW)
    out = churn_warning(sessions, now=NOW)
    risk = {r["customer"]: r["risk"] for r in out["all"]}
    scored = [c for c in customers if c.id in risk]
    auroc = roc_auc_score([c.drifting for c in scored], [risk[c.id] for c in scored])
    assert auroc > 0.8
    flagged = {r["customer"] for r in out["at_risk"]}
    drifting = {c.id for c in scored if c.drifting}
    assert len(flagged & drifting) / len(flagged) > 0.5
    first = out["at_risk"][0]
    assert "negative sessions" in first["evidence"] and first["risk"] >= 0.5


def test_churn_ignores_future_sessions_and_thin_histories() -> None:
    bad = {"frustrated": 0.9, "neutral": 0.1}
    sessions = [CustomerSession("a", NOW - 86400 * d, bad) for d in (1, 2)]
    sessions.append(CustomerSession("a", NOW + 86400, bad))
    out = churn_warning(sessions, now=NOW, min_sessions=3)
    assert out["customers"] == 0 and out["skipped_few_sessions"] == 1


def test_quality_report_precision_recall_groups_and_threshold() -> None:
    rng = random.Random(4)
    js = []
    for _ in range(2000):
        conf = rng.uniform(0.3, 1.0)
        right = rng.random() < conf  # calibrated by construction
        truth = "frustrated" if rng.random() < 0.5 else "confused"
        shown = truth if right else ("confused" if truth == "frustrated" else "frustrated")
        group = "de" if rng.random() < 0.3 else "en"
        js.append(
            Judgement(
                shown,
                true_state=truth,
                confidence=conf,
                uncertain=conf < 0.4,
                group=group,
                model_version="v1" if rng.random() < 0.5 else "v2",
            )
        )
    rep = quality_report(js, target_precision=0.9)
    assert rep["calibration"]["ece"] < 0.05
    fr = rep["per_state"]["frustrated"]
    assert 0.6 < fr["precision"] < 0.7 and 0.6 < fr["recall"] < 0.7
    assert set(rep["groups"]) == {"de", "en"}
    assert rep["drift"]["model"]["versions"]["v2"]["psi"] < 0.1
    th = rep["threshold"]
    assert th["precision"] >= 0.9 and 0.75 < th["threshold"] < 0.95
    assert 0.1 < rep["uncertain_share"] < 0.2


def test_drift_compares_versions_of_one_analyzer_only() -> None:
    rng = random.Random(2)
    behaviour = [rng.betavariate(5, 2) for _ in range(500)]
    face = [rng.betavariate(2, 5) for _ in range(500)]
    out = drift_by_family(
        {"behaviour/rage_click@1": behaviour, "face@1/fer@3": face, "face@1/fer@4": face[::-1]}
    )
    assert set(out) == {"face/fer"}  # behaviour against face is not a version change
    assert out["face/fer"]["reference"] == "face@1/fer@3"
    assert out["face/fer"]["versions"]["face@1/fer@4"]["level"] == "stable"


def test_ece_and_psi_detect_problems() -> None:
    assert ece([0.9] * 100, [True] * 50 + [False] * 50)["ece"] == pytest.approx(0.4)
    rng = random.Random(1)
    ref = [rng.betavariate(5, 2) for _ in range(3000)]
    same = [rng.betavariate(5, 2) for _ in range(3000)]
    moved = [rng.betavariate(2, 5) for _ in range(3000)]
    assert psi(ref, same) < 0.05 and psi(ref, moved) > 0.5
    assert propose_threshold([0.9, 0.8], [False, False], 0.9, min_support=1)["threshold"] is None
    right_or_wrong = Judgement("neutral", correct=False)
    assert right_or_wrong.is_correct is False


def test_heatmap_csv_defuses_formulas_in_touchpoints() -> None:
    cells = heatmap([Touch("s1", step="=HYPERLINK(1)", state="frustrated")])
    assert "\n'=HYPERLINK(1)," in to_csv(cells)


def test_undefined_figures_become_null_and_roi_rejects_absurd_inputs() -> None:
    import json

    from attune.measure.reports import finite

    lift = two_proportion_test(0, 100, 5, 100).to_dict()  # relative lift over a zero rate
    clean = finite(lift)
    assert clean["relative"] is None and clean["relative_ci"][1] is None
    json.dumps(clean, allow_nan=False)
    with pytest.raises(ValueError, match="finite"):
        RoiInput(float("inf"), 0.1, (0.0, 0.2), 1.0)
