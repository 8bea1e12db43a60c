"""The experiment read-out: every statistic of the definition on the current units, in one
plain dict ready for JSON, the HTML report and the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attune.measure import bayes, cuped, power, sequential
from attune.measure.experiments import CONTROL, TREATMENT, ExperimentDefinition, Metric
from attune.measure.hardstops import check_hard_stops
from attune.measure.srm import srm_check
from attune.measure.stats import Summary
from attune.measure.units import PRE_PERIOD_DAYS, Unit, arm_counts, compare_metric, values

LOOKS = 10
MIN_SEGMENT = 20  # units per arm before a segment gets its own read-out
MIN_CUPED_COVERAGE = 0.2  # share of units with a pre-period before CUPED is read out


def _bayes(units: Sequence[Unit], m: Metric) -> dict[str, Any]:
    c, t = values(units, CONTROL, m.name), values(units, TREATMENT, m.name)
    if m.kind == "proportion":
        r = bayes.beta_binomial(
            int(sum(c)),
            len(c),
            int(sum(t)),
            len(t),
            metric=m.name,
            higher_is_better=m.higher_is_better,
        )
    else:
        sc, st = Summary.of(c), Summary.of(t)
        r = bayes.normal_means(
            sc.mean, sc.var, sc.n, st.mean, st.var, st.n, m.name, m.higher_is_better
        )
    return r.to_dict()


def _cuped(units: Sequence[Unit], m: Metric, alpha: float) -> dict[str, Any] | None:
    """CUPED with each unit's pre-period value of the metric. A unit without a pre-period (a
    new customer) gets the pooled mean: a constant fixed before assignment, so the estimate stays
    unbiased and that unit simply gains nothing."""
    observed = [u for u in units if m.name in u.metrics]
    with_x = [u for u in observed if m.name in u.covariates]
    if len(with_x) < 4 or len(with_x) < len(observed) * MIN_CUPED_COVERAGE:
        return None  # too few units have a pre-period to be worth it
    fill = sum(u.covariates[m.name] for u in with_x) / len(with_x)

    def x(u: Unit) -> float:
        return u.covariates.get(m.name, fill)

    arm = {a: [u for u in observed if u.arm == a] for a in (CONTROL, TREATMENT)}
    if min(len(arm[CONTROL]), len(arm[TREATMENT])) < 2:
        return None
    out = cuped.cuped(
        [u.metrics[m.name] for u in arm[CONTROL]],
        [x(u) for u in arm[CONTROL]],
        [u.metrics[m.name] for u in arm[TREATMENT]],
        [x(u) for u in arm[TREATMENT]],
        alpha,
        m.name,
    ).to_dict()
    out["coverage"] = len(with_x) / len(observed)
    out["pre_period_days"] = PRE_PERIOD_DAYS
    return out


def _sequential(units: Sequence[Unit], d: ExperimentDefinition) -> list[dict[str, Any]]:
    m = d.primary
    ordered = sorted((u for u in units if m.name in u.metrics), key=lambda u: u.at)
    looks: list[tuple[float, float]] = []
    for k in range(1, LOOKS + 1):
        part = ordered[: len(ordered) * k // LOOKS]
        c, t = values(part, CONTROL, m.name), values(part, TREATMENT, m.name)
        if len(c) < 2 or len(t) < 2:
            continue
        if m.kind == "proportion":
            looks.append(sequential.proportion_look(int(sum(c)), len(c), int(sum(t)), len(t)))
        else:
            sc, st = Summary.of(c), Summary.of(t)
            looks.append((st.mean - sc.mean, max(sc.var / sc.n + st.var / st.n, 1e-12)))
    if not looks:
        return []
    base = sum(values(ordered, CONTROL, m.name)) / max(1, len(values(ordered, CONTROL, m.name)))
    tau2 = max((abs(base) * d.mde_relative) ** 2, 1e-9)
    return sequential.to_dicts(sequential.monitor(looks, tau2, d.alpha))


def _plan(units: Sequence[Unit], d: ExperimentDefinition) -> dict[str, Any]:
    ratio = d.treatment_share / (1 - d.treatment_share)
    c = values(units, CONTROL, d.primary.name)
    out: dict[str, Any] = {"min_sample_per_arm": d.min_sample_per_arm}
    try:
        if d.primary.kind == "proportion" and c:
            plan = power.sample_size_proportions(
                sum(c) / len(c), d.mde_relative, d.alpha, d.power, ratio
            )
        elif len(c) >= 2:
            s = Summary.of(c)
            plan = power.sample_size_means(
                s.var**0.5, abs(s.mean) * d.mde_relative, d.alpha, d.power, ratio
            )
        else:
            return out
    except ValueError as exc:
        out["note"] = str(exc)
        return out
    out["power_plan"] = plan.to_dict()
    need = max(plan.n_control, d.min_sample_per_arm)
    out["progress"] = min(1.0, len(c) / need) if need else 1.0
    return out


def _segments(units: Sequence[Unit], d: ExperimentDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in d.segments:
        groups = sorted({u.segments[key] for u in units if key in u.segments})
        per: dict[str, Any] = {}
        for g in groups:
            part = [u for u in units if u.segments.get(key) == g]
            nc = len(values(part, CONTROL, d.primary.name))
            nt = len(values(part, TREATMENT, d.primary.name))
            if min(nc, nt) < MIN_SEGMENT:
                per[g] = {"n_control": nc, "n_treatment": nt, "note": "too few units"}
                continue
            per[g] = compare_metric(part, d.primary, d.alpha).to_dict()
        if per:
            out[key] = per
    return out


def readout(d: ExperimentDefinition, units: Sequence[Unit]) -> dict[str, Any]:
    counts = arm_counts(units)
    out: dict[str, Any] = {
        "experiment": d.to_dict(),
        "fingerprint": d.fingerprint(),
        "units": counts,
    }
    if min(counts.get(CONTROL, 0), counts.get(TREATMENT, 0)) < 2:
        out["status"] = "waiting for data in both arms"
        return out
    out["srm"] = srm_check({a: counts.get(a, 0) for a in d.split}, d.split).to_dict()
    out["plan"] = _plan(units, d)
    metrics: dict[str, Any] = {}
    for m in d.metrics:
        try:
            metrics[m.name] = {
                "role": "primary" if m is d.primary else "secondary",
                "higher_is_better": m.higher_is_better,
                "frequentist": compare_metric(units, m, d.alpha).to_dict(),
                "bayesian": _bayes(units, m),
                "cuped": _cuped(units, m, d.alpha),
            }
        except ValueError as exc:
            metrics[m.name] = {"error": str(exc)}
    out["metrics"] = metrics
    out["sequential"] = _sequential(units, d)
    out["segments"] = _segments(units, d)
    out["hard_stop"] = check_hard_stops(d, units).to_dict()
    out["verdict"] = verdict(out, d)
    return out


def verdict(out: dict[str, Any], d: ExperimentDefinition) -> str:
    """Two or three plain sentences for people who will not read the tables."""
    if out["hard_stop"]["stop"]:
        return "Hard stop: " + "; ".join(out["hard_stop"]["reasons"]) + "."
    if out["srm"]["alert"]:
        return out["srm"]["message"] + "."
    prim = out["metrics"].get(d.primary.name, {})
    if "frequentist" not in prim:
        return f"The primary metric {d.primary.name} cannot be read yet."
    f, b = prim["frequentist"], prim["bayesian"]
    seq = out["sequential"][-1] if out["sequential"] else None
    better = (f["absolute"] > 0) == d.primary.higher_is_better
    direction = "better" if better else "worse"
    lo, hi = f["relative_ci"]
    s = (
        f"{d.primary.name}: adaptive {f['treatment']:.4g} vs control {f['control']:.4g} "
        f"({f['relative']:+.1%}, {100 * (1 - d.alpha):.0f}% CI {lo:+.1%} to {hi:+.1%}); "
        f"probability the adaptive arm is better: {b['prob_treatment_better']:.1%}."
    )
    if seq and seq["reject"]:
        s += f" The always-valid test is conclusive: the adaptive arm is {direction}."
    elif out["plan"].get("progress", 0) < 1:
        s += " Not conclusive yet; keep collecting until the planned sample is reached."
    else:
        s += " The planned sample is reached without a conclusive difference."
    return s
