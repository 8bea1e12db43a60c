"""Experiment definitions, assignment, hard stops and the read-out on simulated data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scipy import stats

from attune.measure.experiments import (
    CONTROL,
    TREATMENT,
    ExperimentDefinition,
    Guardrail,
    Metric,
    assign,
)
from attune.measure.hardstops import check_hard_stops
from attune.measure.readout import readout
from attune.measure.units import Unit


def definition(**kw: object) -> ExperimentDefinition:
    base: dict[str, object] = dict(
        id="checkout-calm",
        hypothesis="Adapting checkout to frustration lowers dropout",
        treatment_playbook="shop@1",
        primary=Metric("dropout", higher_is_better=False),
        secondary=(Metric("order_value", kind="mean"),),
        guardrails=(
            Guardrail("dropout", max_relative_change=0.2, min_per_arm=200),
            Guardrail("frustrated_share", max_relative_change=0.3, min_per_arm=200),
        ),
        min_sample_per_arm=500,
        mde_relative=0.2,
    )
    base.update(kw)
    return ExperimentDefinition(**base)  # type: ignore[arg-type]


def simulate(
    n: int,
    p_control: float,
    p_treat: float,
    seed: int = 1,
    frustrated: tuple[float, float] = (0.1, 0.1),
) -> list[Unit]:
    rng = random.Random(seed)
    units = []
    for i in range(n):
        arm = assign(f"s{i}", "checkout-calm")
        drop = rng.random() < (p_treat if arm == TREATMENT else p_control)
        fr = rng.random() < frustrated[arm == TREATMENT]
        pre = rng.gauss(80, 20)
        metrics = {"dropout": float(drop), "frustrated_share": float(fr)}
        if not drop:
            metrics["order_value"] = pre * 0.9 + rng.gauss(0, 8)
        units.append(
            Unit(
                arm,
                at=float(i),
                metrics=metrics,
                covariates={"order_value": pre},
                segments={
                    "device": rng.choice(("mobile", "desktop")),
                    "customer_type": rng.choice(("new", "existing")),
                },
            )
        )
    return units


def test_assignment_is_stable_and_uniform() -> None:
    ids = [f"subject-{i}" for i in range(20000)]
    arms = [assign(s, "exp-a") for s in ids]
    assert arms == [assign(s, "exp-a") for s in ids]
    n_t = arms.count(TREATMENT)
    assert stats.chisquare([n_t, len(ids) - n_t]).pvalue > 0.001
    share = [assign(s, "exp-b", treatment_share=0.2) for s in ids].count(TREATMENT) / len(ids)
    assert abs(share - 0.2) < 0.015
    # A different experiment reshuffles subjects independently.
    other = [assign(s, "exp-c") for s in ids]
    agree = sum(a == b for a, b in zip(arms, other, strict=True)) / len(ids)
    assert 0.47 < agree < 0.53
    assert assign("x", "exp-a", stopped=True) == CONTROL


def test_definition_is_validated_and_fingerprinted() -> None:
    d = definition()
    again = ExperimentDefinition.from_dict(d.to_dict())
    assert again == d and again.fingerprint() == d.fingerprint()
    assert definition(mde_relative=0.3).fingerprint() != d.fingerprint()
    with pytest.raises(ValueError, match="hypothesis"):
        definition(hypothesis=" ")
    with pytest.raises(ValueError, match="treatment_share"):
        definition(treatment_share=1.0)
    with pytest.raises(ValueError, match="bad experiment definition"):
        ExperimentDefinition.from_dict({"id": "x"})


def test_hard_stop_fires_on_harm_and_not_on_noise() -> None:
    d = definition()
    harmful = check_hard_stops(d, simulate(4000, 0.20, 0.30))
    assert harmful.stop
    assert any("dropout is up" in r for r in harmful.reasons)
    calm = check_hard_stops(d, simulate(4000, 0.20, 0.20))
    assert not calm.stop
    early = check_hard_stops(d, simulate(150, 0.2, 0.6))
    assert not early.stop and "not judged before 200" in early.checks[0].reason


def test_emotional_guardrail_can_stop_alone() -> None:
    res = check_hard_stops(definition(), simulate(4000, 0.2, 0.2, frustrated=(0.10, 0.18)))
    assert res.stop and res.reasons[0].startswith("frustrated_share")


def test_hard_stop_false_alarm_rate_stays_low_under_repeated_checks() -> None:
    d = definition(guardrails=(Guardrail("dropout", max_relative_change=0.2, min_per_arm=100),))
    false_stops = 0
    for seed in range(40):
        units = simulate(3000, 0.2, 0.2, seed=seed)
        false_stops += any(check_hard_stops(d, units[:k]).stop for k in range(300, 3001, 300))
    assert false_stops <= 2


def test_readout_has_every_section_and_a_verdict() -> None:
    d = definition()
    out = readout(d, simulate(3000, 0.25, 0.18))
    assert set(out) >= {"srm", "plan", "metrics", "sequential", "segments", "hard_stop", "verdict"}
    assert not out["srm"]["alert"]
    prim = out["metrics"]["dropout"]
    assert prim["frequentist"]["absolute"] < 0 and prim["bayesian"]["prob_treatment_better"] > 0.95
    assert out["metrics"]["order_value"]["cuped"]["variance_reduction"] > 0.5
    assert len(out["sequential"]) == 10
    assert set(out["segments"]["device"]) == {"desktop", "mobile"}
    assert "dropout" in out["verdict"]


def test_readout_flags_sample_ratio_mismatch() -> None:
    units = simulate(3000, 0.2, 0.2)
    skewed = [u for i, u in enumerate(units) if u.arm == CONTROL or i % 4]
    out = readout(definition(), skewed)
    assert out["srm"]["alert"]
    assert out["verdict"].startswith("sample-ratio mismatch")


def test_readout_waits_for_both_arms() -> None:
    assert readout(definition(), [Unit(CONTROL, metrics={"dropout": 1.0})])["status"]


def test_watcher_stops_a_running_engine(tmp_path: Path) -> None:
    import asyncio

    from attune.api.app import create_app
    from attune.config import load_settings
    from attune.engine import Experiment
    from attune.measure.stopper import watch_hard_stops

    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}", modalities=["behaviour"], pseudonym_key="k"
    )
    app = create_app(settings, experiment=Experiment("checkout-calm"))
    rng = random.Random(2)
    sessions, outcomes = [], []
    for i in range(600):
        arm = assign(f"u{i}", "checkout-calm")
        sessions.append(
            {
                "id": f"s{i}",
                "subject": f"u{i}",
                "arm": arm,
                "started_at": float(i),
                "last_at": float(i),
                "standard_view": False,
            }
        )
        bad = rng.random() < (0.45 if arm == TREATMENT else 0.2)
        outcomes.append(
            {
                "id": f"o{i}",
                "session_id": f"s{i}",
                "subject": f"u{i}",
                "name": "abandonment" if bad else "conversion",
                "at": float(i) + 1,
            }
        )
    app.state.store.write_batch({"sessions": sessions, "outcomes": outcomes})
    asyncio.run(watch_hard_stops(app.state, "checkout-calm", every_s=0.01, rounds=3))
    assert app.state.engine.experiment.stopped
    assert app.state.engine.experiment.arm("anyone") == CONTROL
