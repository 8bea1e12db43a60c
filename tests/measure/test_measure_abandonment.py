"""The shipped abandonment model at run time: ONNX only, sensible direction, clear errors."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from attune.models.runtime import load_bundle
from attune.signals.behaviour.abandonment import (
    COLUMNS,
    FEATURE_NAMES,
    abandonment_risk,
    abandonment_signal,
    calibrate,
    engineer,
    features_from_pages,
    threshold,
)
from attune_training.abandonment import write_split


def test_engineered_features_are_finite_and_named() -> None:
    x = engineer(
        [
            {
                "PageValues": 12.5,
                "Month": "nov",
                "VisitorType": "New_Visitor",
                "Weekend": "TRUE",
                "TrafficType": "2",
            },
            {},
        ]
    )
    assert x.shape == (2, len(FEATURE_NAMES))
    assert all(math.isfinite(v) for v in x.ravel())
    row = dict(zip(FEATURE_NAMES, x[0], strict=True))
    assert row["m_Nov"] == 1 and row["new_visitor"] == 1 and row["pv_pos"] == 1
    with pytest.raises(ValueError, match="PageValues"):
        engineer([{"PageValues": "lots"}])


def test_risk_follows_the_evidence() -> None:
    browsing = {
        "PageValues": 0,
        "ExitRates": 0.2,
        "BounceRates": 0.2,
        "ProductRelated": 1,
        "ProductRelated_Duration": 0,
        "Month": "May",
    }
    buying = {
        "PageValues": 45,
        "ExitRates": 0.01,
        "BounceRates": 0.0,
        "ProductRelated": 35,
        "ProductRelated_Duration": 1800,
        "Month": "Nov",
    }
    high, why = abandonment_risk(browsing)
    low, _ = abandonment_risk(buying)
    assert high > 0.9 > 0.5 > low
    assert "page value 0" in why and "high exit rate" in why
    assert 0.1 < threshold() < 0.7


def test_signal_from_page_views() -> None:
    feats = features_from_pages(
        [("/product/1", 40), ("/product/2", 55), ("/help/returns", 20), ("/cart", 10)]
    )
    assert feats["ProductRelated"] == 2 and feats["Informational_Duration"] == 20
    s = abandonment_signal(feats, at=5.0)
    assert s.name == "abandonment_risk" and 0 <= s.value <= 1 and s.confidence == 0.4
    assert "missing PageValues" in s.evidence
    assert abs(sum(s.cx.values()) - 1) < 1e-9 and s.source.startswith("behaviour/abandonment@")


def test_calibration_is_monotone_and_shipped() -> None:
    p = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    assert np.array_equal(calibrate(p, None), p)
    q = calibrate(p, {"a": 1.4, "b": -0.5})
    assert np.all(np.diff(q) > 0) and np.all((q > 0) & (q < 1))
    cal = load_bundle("abandonment").meta["calibration"]
    assert cal["method"] == "platt" and cal["a"] > 0


def test_dev_split_is_written_disjoint_and_verbatim(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    with data.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*COLUMNS, "Revenue"])
        for i in range(40):
            w.writerow([i, *([0] * (len(COLUMNS) - 1)), "TRUE" if i % 4 == 0 else "FALSE"])
    part, dev = write_split(data, tmp_path / "split", seed=3)
    rows = {p: list(csv.DictReader(p.open())) for p in (part, dev)}
    ids = {p: {r["Administrative"] for r in rs} for p, rs in rows.items()}
    assert len(rows[dev]) == 8 and len(rows[part]) == 32 and not ids[dev] & ids[part]
    assert sum(r["Revenue"] == "TRUE" for r in rows[dev]) == 2
    assert part.read_text().splitlines()[0] == data.read_text().splitlines()[0]
