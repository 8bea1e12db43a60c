"""KPIs beside the emotional layer, and the experiment registry on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attune.measure import registry
from attune.measure.defaults import checkout_definition
from attune.measure.experiments import Exposure
from attune.measure.kpis import OutcomeRecord, SessionRecord, StatePoint, kpis
from attune.storage.store import Store


def _session(i: int, arm: str, converted: bool, states: list[str]) -> SessionRecord:
    t = 1000.0 * i
    outs = (
        [OutcomeRecord("conversion", t + 120, 50.0 + i, "/review")]
        if converted
        else [OutcomeRecord("abandonment", t + 60, None, "/payment")]
    )
    outs.append(OutcomeRecord("csat", t + 130, 4.0 if converted else 2.0))
    outs.append(OutcomeRecord("nps", t + 131, 10.0 if converted else 3.0))
    pts = [
        StatePoint(t + 10 * k, s, 0.7 if s != "neutral" else 0.1, "/payment")
        for k, s in enumerate(states)
    ]
    return SessionRecord(
        f"s{i}",
        f"u{i}",
        t,
        arm,
        "checkout",
        "web",
        segments={"device": "m"},
        outcomes=outs,
        states=pts,
    )


def test_business_and_emotional_kpis_per_arm() -> None:
    sessions = [
        _session(0, "control", True, ["neutral", "frustrated", "neutral"]),
        _session(1, "control", False, ["frustrated", "frustrated"]),
        _session(2, "adaptive", True, ["confused", "neutral"]),
        _session(3, "adaptive", True, ["neutral"]),
    ]
    out = kpis(sessions, by=("arm",))
    overall = out["overall"]
    assert overall["business"]["conversion_rate"] == pytest.approx(0.75)
    assert overall["business"]["dropout_rate"] == pytest.approx(0.25)
    assert overall["business"]["time_to_completion_s"] == pytest.approx(120.0)
    assert overall["business"]["nps"] == pytest.approx(100 * (3 - 1) / 4)
    assert overall["business"]["dropout_per_step"]["/payment"]["dropout"] == pytest.approx(0.25)
    emo = overall["emotional"]
    assert emo["state_share"]["frustrated"] == pytest.approx(0.5)
    assert emo["negative_share"] == pytest.approx(0.75)
    # s0: frustrated at +10 -> neutral at +20 (10 s); s2: confused at 0 -> neutral at +10.
    assert emo["time_to_de_escalation_s"] == pytest.approx(10.0)
    assert emo["negative_to_neutral_transitions"] == 2
    arms = {g["key"]["arm"]: g for g in out["groups"]}
    assert arms["adaptive"]["business"]["conversion_rate"] == 1.0
    assert arms["control"]["business"]["order_value_mean"] == pytest.approx(50.0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same contract on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'r.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store(url)
    yield s
    s.close()


def test_registry_fixes_the_definition_at_start(store: Store) -> None:
    d = checkout_definition("exp-r")
    fp = registry.register(store, d, at=1.0)
    assert registry.definition(store, "exp-r") == d
    changed = checkout_definition("exp-r").__class__.from_dict({**d.to_dict(), "mde_relative": 0.5})
    assert registry.register(store, changed) != fp  # a draft may still change
    registry.start(store, "exp-r", at=2.0)
    with pytest.raises(registry.ExperimentError, match="fixed"):
        registry.register(store, d)
    with pytest.raises(registry.ExperimentError, match="already running"):
        registry.start(store, "exp-r")
    for i in range(5):
        registry.log_exposure(store, Exposure("exp-r", f"u{i}", "control", 3.0 + i))
    registry.log_exposure(store, Exposure("exp-r", "u0", "adaptive", 99.0))  # first one wins
    assert registry.exposure_counts(store, "exp-r") == {"control": 5}
    registry.stop(store, "exp-r", "dropout up 30 %")
    row = registry.get_row(store, "exp-r")
    assert row is not None and row["status"] == "stopped" and row["stop_reason"]
