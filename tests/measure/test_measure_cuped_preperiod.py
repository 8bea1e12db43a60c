"""CUPED on real covariates: a customer's sessions in the 28 days before their first exposure
are the pre-period; the read-out reports the variance reduction and the coverage."""

from __future__ import annotations

import random
from pathlib import Path

from attune.measure import load
from attune.measure.reports import experiment_report
from attune.storage.store import Store

EXP, T0, DAY = "cuped-exp", 1_767_000_000.0, 86400.0


def _session(sid: str, subj: str, arm: str, at: float, dropped: bool) -> tuple[dict, dict]:
    s = {
        "id": sid,
        "subject": subj,
        "moment": "checkout",
        "channel": "web",
        "arm": arm,
        "started_at": at,
        "last_at": at + 60,
        "mode": "standard",
        "top_state": None,
        "standard_view": False,
    }
    o = {
        "id": f"o-{sid}",
        "session_id": sid,
        "subject": subj,
        "name": "abandonment" if dropped else "conversion",
        "value": None if dropped else 50.0,
        "step": "/checkout/payment",
        "moment": "checkout",
        "arm": arm,
        "at": at + 30,
    }
    return s, o


def test_pre_period_sessions_become_covariates_and_reduce_variance(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    rng = random.Random(9)
    sessions, outcomes, exposures = [], [], []
    for i in range(400):
        subj, arm = f"u{i}", ("adaptive" if i % 2 else "control")
        leaver = rng.random() < 0.4  # a trait: leavers drop out in most of their sessions
        at = T0 + i * 10
        for k in range(3 if i % 4 else 0):  # three in four customers came before
            s, o = _session(
                f"pre{i}-{k}",
                subj,
                "control",
                at - (k + 1) * 5 * DAY,
                rng.random() < (0.8 if leaver else 0.1),
            )
            sessions.append(s)
            outcomes.append(o)
        old, o_old = _session(f"old{i}", subj, "control", at - 60 * DAY, True)  # outside 28 days
        s, o = _session(f"s{i}", subj, arm, at, rng.random() < (0.8 if leaver else 0.1))
        sessions += [old, s]
        outcomes += [o_old, o]
        exposures.append(
            {"experiment_id": EXP, "subject": subj, "arm": arm, "session_id": f"s{i}", "at": at}
        )
    store.write_batch(
        {"sessions": sessions, "outcomes": outcomes, "experiment_exposures": exposures}
    )
    during, earlier = load.experiment_sessions(store, EXP)
    assert {r.id for r in during} == {f"s{i}" for i in range(400)}
    assert len(earlier["u1"]) == 3 and "u0" not in earlier  # the 60-day-old session is outside
    units = load.units(during, earlier)
    assert sum("dropout" in u.covariates for u in units) == 300
    rep = experiment_report(store, EXP)
    cup = rep["metrics"]["dropout"]["cuped"]
    assert cup["coverage"] == 0.75 and cup["pre_period_days"] == 28
    assert cup["variance_reduction"] > 0.2  # a strong trait: most of the variance is explained
    assert sum(rep["units"].values()) == 400  # pre-period sessions are not experiment units
