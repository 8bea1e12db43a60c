"""Decision disparity between groups (escalation, offers paused, modes) and drift per model
version, on data with known answers and through the store."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from attune.measure.disparity import DecisionRecord, disparity
from attune.storage.store import Store


def _records() -> list[DecisionRecord]:
    rng = random.Random(3)
    out = []
    for i in range(600):
        lang = "de" if i % 2 else "en"
        if i % 50 == 0:
            lang = "fi"  # a small group: listed, not compared
        esc = rng.random() < (0.3 if lang == "de" else 0.1)
        mode = "trust" if rng.random() < 0.2 else "simplified"
        out.append(
            DecisionRecord(
                f"s{i}", {"language": lang}, esc, rng.random() < 0.5, frozenset({mode, "standard"})
            )
        )
    return out


def test_a_gap_above_the_bound_is_flagged_with_its_groups_and_test() -> None:
    rep = disparity(_records(), bound=0.1, min_group=30)
    lang = rep["fields"]["language"]
    assert "not compared" in lang["groups"]["fi"]["note"]
    esc = lang["gaps"]["escalation"]
    assert esc["highest"] == "de" and esc["lowest"] == "en" and esc["flagged"]
    assert esc["p_value"] < 0.001
    lo, hi = lang["groups"]["de"]["escalation"]["ci"]
    assert lo < lang["groups"]["de"]["escalation"]["rate"] < hi
    assert not lang["gaps"]["offers_paused"]["flagged"]  # same rate in both groups
    assert "mode:trust" in lang["gaps"]
    (flag,) = [f for f in rep["flags"] if f["measure"] == "escalation"]
    assert "'de'" in flag["message"] and "'en'" in flag["message"]
    assert disparity(_records(), bound=0.5)["flags"] == []  # the bound is configurable
    with pytest.raises(ValueError, match="bound"):
        disparity([], bound=0)


def test_decision_records_come_with_the_groups_the_company_sent(tmp_path: Path) -> None:
    from attune.measure.load import decision_records

    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    sessions, decisions, events = [], [], []
    for i in range(4):
        sid = f"s{i}"
        arm = "control" if i == 3 else "adaptive"
        sessions.append(
            {
                "id": sid,
                "subject": f"u{i}",
                "moment": "checkout",
                "channel": "web",
                "arm": arm,
                "started_at": 1.0 + i,
                "last_at": 2.0 + i,
                "mode": "standard",
                "top_state": None,
                "standard_view": False,
            }
        )
        ctx = {
            "locale": "de-DE" if i else "en_GB",
            "device": "mobile",
            "groups": {"plan": "premium", "nested": {"x": 1}},
        }
        events.append(
            {
                "id": f"e{i}",
                "session_id": sid,
                "subject": f"u{i}",
                "kind": "behaviour",
                "at": 1.0 + i,
                "payload": {"context": ctx},
                "expires_at": None,
            }
        )
        decisions.append(
            {
                "id": f"d{i}",
                "session_id": sid,
                "subject": f"u{i}",
                "at": 1.5 + i,
                "moment": "checkout",
                "mode": "simplified",
                "tone": None,
                "offers_allowed": i != 1,
                "escalate": i == 2,
                "actions": [],
                "content": {},
                "explanation": "x",
                "state": {},
                "playbook_version": "shop@1",
                "arm": arm,
                "expires_at": None,
            }
        )
    store.write_batch({"sessions": sessions, "events": events, "decisions": decisions})
    recs = {r.session_id: r for r in decision_records(store)}
    assert set(recs) == {"s0", "s1", "s2"}  # control never adapts: left out
    assert recs["s0"].groups == {
        "language": "en",
        "device": "mobile",
        "plan": "premium",
        "channel": "web",
        "use_case": "checkout",
        "customer_type": "new",
    }
    assert recs["s1"].offers_paused and recs["s2"].escalated and not recs["s0"].escalated
