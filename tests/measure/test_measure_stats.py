"""The statistics core against scipy/statsmodels (to 1e-6) and against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from attune.measure import bayes, power, sequential, srm
from attune.measure.cuped import cuped
from attune.measure.stats import Summary, two_proportion_test, welch_from_values

TOL = 1e-6


@pytest.mark.parametrize(
    "xc,nc,xt,nt", [(120, 1000, 150, 1000), (33, 410, 21, 388), (5000, 40000, 5300, 41000)]
)
def test_two_proportion_matches_statsmodels(xc: int, nc: int, xt: int, nt: int) -> None:
    r = two_proportion_test(xc, nc, xt, nt)
    z, p = proportions_ztest([xt, xc], [nt, nc])
    assert r.statistic == pytest.approx(z, abs=TOL)
    assert r.p_value == pytest.approx(p, abs=TOL)
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff")
    assert r.absolute_ci == pytest.approx((lo, hi), abs=TOL)
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="log", compare="ratio")
    assert r.relative_ci == pytest.approx((lo - 1, hi - 1), abs=TOL)
    assert r.relative == pytest.approx((xt / nt) / (xc / nc) - 1, abs=TOL)


def test_two_proportion_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="not within"):
        two_proportion_test(11, 10, 1, 10)
    with pytest.raises(ValueError, match="no observations"):
        two_proportion_test(0, 0, 1, 10)


def test_welch_matches_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(3)
    c, t = rng.gamma(2.0, 30.0, 300), rng.gamma(2.2, 30.0, 450)
    r = welch_from_values(c.tolist(), t.tolist())
    ref = stats.ttest_ind(t, c, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic, abs=TOL)
    assert r.p_value == pytest.approx(ref.pvalue, abs=TOL)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    assert r.absolute_ci == pytest.approx(cm.tconfint_diff(usevar="unequal"), abs=TOL)
    assert Summary.of(c.tolist()).var == pytest.approx(np.var(c, ddof=1), rel=1e-12)


def test_relative_ci_of_means_covers_the_truth_about_95_percent() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(400):
        c, t = rng.normal(100, 20, 200), rng.normal(110, 25, 200)
        lo, hi = welch_from_values(c.tolist(), t.tolist()).relative_ci
        hits += lo <= 0.10 <= hi
    assert 0.92 <= hits / 400 <= 0.98


def test_sample_size_matches_statsmodels() -> None:
    plan = power.sample_size_proportions(0.10, 0.2, alpha=0.05, power=0.8, ratio=1.0)
    h = power.cohens_h(0.10, 0.12)
    ref = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert plan.n_control == math.ceil(ref)
    assert power.power_for(h, 1000, 0.05, 0.5) == pytest.approx(
        NormalIndPower().power(h, 1000, 0.05, ratio=0.5), abs=TOL
    )
    means = power.sample_size_means(sd=40.0, mde_absolute=5.0, ratio=0.25)
    ref = NormalIndPower().solve_power(effect_size=5 / 40, alpha=0.05, power=0.8, ratio=0.25)
    assert means.n_control == math.ceil(ref)
    assert means.n_treatment == math.ceil(ref * 0.25)


def test_mde_is_the_inverse_of_sample_size() -> None:
    plan = power.sample_size_proportions(0.3, 0.05)
    mde = power.mde_proportions(0.3, plan.n_control)
    assert mde == pytest.approx(0.05, rel=1e-3)
    with pytest.raises(ValueError, match="zero effect"):
        power.sample_size_means(1.0, 0.0)


def test_srm_matches_scipy_and_alerts_only_on_mismatch() -> None:
    ok = srm.srm_check({"control": 5030, "adaptive": 4970}, {"control": 0.5, "adaptive": 0.5})
    ref = stats.chisquare([5030, 4970])
    assert ok.p_value == pytest.approx(ref.pvalue, abs=TOL) and not ok.alert
    bad = srm.srm_check({"control": 5300, "adaptive": 4700}, {"control": 0.5, "adaptive": 0.5})
    assert bad.alert and "mismatch" in bad.message
    skew = srm.srm_check({"control": 8000, "adaptive": 2000}, {"control": 0.8, "adaptive": 0.2})
    assert not skew.alert
    with pytest.raises(ValueError, match="sum to 1"):
        srm.srm_check({"control": 1}, {"control": 0.6, "adaptive": 0.6})


def test_beta_probability_matches_numerical_integration() -> None:
    a1, b1, a2, b2 = 41, 160, 30, 171
    ref, _ = integrate.quad(
        lambda p: stats.beta.pdf(p, a1, b1) * stats.beta.cdf(p, a2, b2),
        0,
        1,
        epsabs=1e-12,
        limit=200,
    )
    assert bayes.prob_beta_greater(a1, b1, a2, b2) == pytest.approx(ref, abs=TOL)
    r = bayes.beta_binomial(29, 200, 40, 200)
    # E[(pc - pt)+] = E_pt[ mean_c * SF_{Beta(31,171)}(pt) - pt * SF_{Beta(30,171)}(pt) ]
    ac, bc, at, bt = 30, 172, 41, 161
    loss_ref, _ = integrate.quad(
        lambda a: (
            stats.beta.pdf(a, at, bt)
            * (ac / (ac + bc) * stats.beta.sf(a, ac + 1, bc) - a * stats.beta.sf(a, ac, bc))
        ),
        0,
        1,
        epsabs=1e-12,
        limit=200,
    )
    assert r.expected_loss_treatment == pytest.approx(loss_ref, abs=1e-6)
    assert r.prob_treatment_better > 0.9


def test_bayes_lower_is_better_flips_the_direction() -> None:
    up = bayes.beta_binomial(100, 1000, 130, 1000, metric="dropout", higher_is_better=False)
    assert up.prob_treatment_better < 0.05
    m = bayes.normal_means(50, 100, 400, 52, 100, 400)
    draws = np.random.default_rng(0).normal(2, math.sqrt(0.5), 400_000)
    assert m.prob_treatment_better == pytest.approx((draws > 0).mean(), abs=3e-3)
    assert m.expected_loss_treatment == pytest.approx(np.maximum(-draws, 0).mean(), abs=1e-3)


def test_cuped_reduces_variance_and_keeps_the_effect() -> None:
    rng = np.random.default_rng(11)
    n = 2000
    xc, xt = rng.normal(50, 10, n), rng.normal(50, 10, n)
    yc = 0.8 * xc + rng.normal(0, 4, n)
    yt = 0.8 * xt + 1.0 + rng.normal(0, 4, n)
    r = cuped(yc.tolist(), xc.tolist(), yt.tolist(), xt.tolist())
    x, y = np.concatenate([xc, xt]), np.concatenate([yc, yt])
    assert r.theta == pytest.approx(np.polyfit(x, y, 1)[0], abs=TOL)
    assert r.variance_reduction > 0.7
    adj_lo, adj_hi = r.adjusted.absolute_ci
    raw_lo, raw_hi = r.raw.absolute_ci
    assert adj_hi - adj_lo < 0.6 * (raw_hi - raw_lo)
    assert adj_lo < 1.0 < adj_hi


def test_msprt_holds_alpha_under_peeking_where_naive_z_does_not() -> None:
    rng = np.random.default_rng(5)
    sims, looks, batch, p0 = 300, 40, 50, 0.2
    naive = valid = 0
    for _ in range(sims):
        c = rng.random((looks, batch)) < p0
        t = rng.random((looks, batch)) < p0
        xc, xt = np.cumsum(c.sum(1)), np.cumsum(t.sum(1))
        ns = batch * np.arange(1, looks + 1)
        seq = [
            sequential.proportion_look(int(a), int(n), int(b), int(n))
            for a, b, n in zip(xc, xt, ns, strict=True)
        ]
        valid += sequential.monitor(seq, tau2=0.02**2)[-1].reject
        naive += any(abs(d) / math.sqrt(v) > 1.96 for d, v in seq)
    assert valid / sims <= 0.05
    assert naive / sims > 0.15


def test_msprt_detects_a_real_lift_and_its_sequence_covers_it() -> None:
    rng = np.random.default_rng(9)
    c, t = rng.random(20000) < 0.20, rng.random(20000) < 0.23
    seq = [
        sequential.proportion_look(int(c[:n].sum()), n, int(t[:n].sum()), n)
        for n in range(1000, 20001, 1000)
    ]
    res = sequential.monitor(seq, tau2=0.02**2)
    assert res[-1].reject
    lo, hi = res[-1].ci
    assert lo < 0.03 < hi and lo > 0


def test_obf_spending_is_small_early_and_alpha_at_the_end() -> None:
    assert sequential.obf_spent(1.0) == pytest.approx(0.05, abs=1e-12)
    assert sequential.obf_spent(0.25) < 0.0001


def test_obf_boundaries_match_published_values_and_hold_alpha() -> None:
    # Lan-DeMets O'Brien-Fleming, two-sided alpha 0.05, 5 equally spaced looks (as in gsDesign
    # and rpact): 4.877, 3.357, 2.680, 2.290, 2.031.
    b = sequential.obf_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
    assert b == pytest.approx([4.877, 3.357, 2.680, 2.290, 2.031], abs=2e-3)
    rng = np.random.default_rng(2)
    steps = rng.normal(size=(40000, 5))
    z = np.cumsum(steps, axis=1) / np.sqrt(np.arange(1, 6))
    rejected = (np.abs(z) >= np.array(b)).any(axis=1).mean()
    assert rejected == pytest.approx(0.05, abs=0.005)
    with pytest.raises(ValueError, match="increase"):
        sequential.obf_boundaries([0.5, 0.4])
