"""The churn early warning survives any data: hypothesis feeds it sessions no real store would
hold (minutes apart, NaN, huge numbers, unknown states); the API answers them without a 500.
Behaviour-only customers get a read; the minimum-data rule is stated."""

from __future__ import annotations

import json
import math
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune.measure.churn import WEEK, CustomerSession, churn_warning, expit
from attune.measure.churn_base import base, base_risk

NOW = 1_800_000_000.0
STATES = ("frustrated", "confused", "anxious", "disappointed", "satisfied", "neutral", "bogus")
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=-(10**20), max_value=10**20),
)
sessions = st.lists(
    st.builds(
        CustomerSession,
        customer=st.sampled_from(("a", "b", "c")),
        at=st.one_of(
            st.floats(min_value=NOW - 30 * WEEK, max_value=NOW),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([NOW - 60.0 * k for k in range(10)]),  # minutes apart
        ),
        probs=st.dictionaries(st.sampled_from(STATES), numbers, max_size=7),
        signals=st.integers(min_value=-5, max_value=10**9),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions, st.integers(min_value=1, max_value=6), st.floats(0, 1))
def test_churn_warning_cannot_be_made_to_fail(
    ss: list[CustomerSession], min_sessions: int, threshold: float
) -> None:
    out = churn_warning(ss, NOW, threshold, min_sessions)
    json.dumps(out, allow_nan=False)  # no NaN or Infinity anywhere
    for c in out["all"]:
        assert 0.0 <= c["risk"] <= 1.0
    assert out["rule"].startswith(f"A customer is scored with at least {min_sessions} sessions")


def test_sessions_minutes_apart_with_improving_mood_do_not_overflow() -> None:
    """The case that used to answer 500: the per-session slope over minutes was huge."""
    bad, good = {"frustrated": 0.9, "neutral": 0.1}, {"satisfied": 0.9, "neutral": 0.1}
    ss = [CustomerSession("x", NOW - 3 * WEEK - 60 * k, bad) for k in range(3)]
    ss += [CustomerSession("x", NOW - 60 * k, good) for k in range(3)]
    out = churn_warning(ss, NOW)
    (c,) = out["all"]
    assert c["valence_slope"] > 0 and 0.0 <= c["risk"] < c["base_risk"]
    assert expit(1e6) > 0.999999 and expit(-1e6) < 1e-6 and expit(math.nan) == 0.0


def test_behaviour_only_customer_is_not_read_as_always_negative() -> None:
    """Behaviour yields no 'satisfied'; a spread over negative states is not a negative session,
    and a session where nothing was noticed is calm, not missing."""
    mild = {"frustrated": 0.2, "confused": 0.2, "anxious": 0.1, "neutral": 0.5}
    ss = [CustomerSession("y", NOW - w * WEEK - 3600, mild, signals=1) for w in range(6)]
    ss += [CustomerSession("y", NOW - w * WEEK - 7200, {}) for w in range(6)]
    out = churn_warning(ss, NOW)
    (c,) = out["all"]
    assert c["weekly_negative_share"] == [0.0] * 6
    assert all(w["signals_per_session"] == 0.5 for w in c["weekly"])


def test_rising_behaviour_signals_raise_the_risk() -> None:
    calm = [CustomerSession("z", NOW - w * WEEK - 3600, {}, signals=0) for w in range(8)]
    rough = [
        CustomerSession("z", NOW - w * WEEK - 3600, {}, signals=6 if w < 3 else 0) for w in range(8)
    ]
    r_calm = churn_warning(calm, NOW)["all"][0]["risk"]
    r_rough = churn_warning(rough, NOW)["all"][0]["risk"]
    assert r_rough > r_calm


def test_minimum_data_rule_counts_what_it_skips() -> None:
    one_week = [CustomerSession("w", NOW - 60 * k, {}) for k in range(5)]
    out = churn_warning(one_week, NOW, min_sessions=4)
    assert out["customers"] == 0 and out["skipped_few_weeks"] == 1
    assert "at least 2 different weeks" in out["rule"]


def test_base_hazard_is_the_shipped_calibration() -> None:
    b = base()
    assert b["source"] == "telco_churn/train.csv" and "emotional" in b["not_validated"]
    assert base_risk(1) > base_risk(30) > 0  # new customers leave more often (telco data)


def test_churn_endpoint_answers_hostile_rows(tmp_path: Path) -> None:
    from attune.api.app import create_app
    from attune.config import load_settings

    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}", pseudonym_key="k", modalities=["behaviour"]
    )
    app = create_app(settings)
    store = app.state.store
    sessions, states = [], []
    for k in range(6):
        sid = f"s{k}"
        t = 1_767_000_000.0 + 60 * k  # minutes apart, mood improving
        sessions.append(
            {
                "id": sid,
                "subject": "subj",
                "moment": "checkout",
                "channel": "web",
                "arm": None,
                "started_at": t,
                "last_at": t + 30,
                "mode": "standard",
                "top_state": None,
                "standard_view": False,
            }
        )
        p = {"frustrated": 1.0 - k / 5, "satisfied": k / 5, "bogus": 1e308}
        states.append(
            {
                "session_id": sid,
                "subject": "subj",
                "at": t,
                "probs": p,
                "top": "frustrated",
                "intensity": 0.5,
                "confidence": 0.5,
                "uncertain": False,
                "step": "/x",
            }
        )
    store.write_batch({"sessions": sessions, "states": states})
    key = app.state.keys.create("lead", ["analyst", "read"])
    with TestClient(app) as client:
        r = client.get(
            "/v1/measure/churn?min_sessions=1", headers={"Authorization": f"Bearer {key}"}
        )
    assert r.status_code == 200, r.text
    assert "rule" in r.json() and r.json()["skipped_few_weeks"] == 1
