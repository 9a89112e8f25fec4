"""ICE estimators, split-half reliability, τ_sh(τ_LC) relation and the label driver (synthetic engine)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from taulc.dynamics.estimators import (
    classify_slow,
    ice_estimate,
    km_restricted_mean,
    spearman_brown,
    split_half_reliability,
)
from taulc.dynamics.labels import LabelSettings, label_configuration, run_ice
from taulc.dynamics.relation import (
    bin_relation,
    boundary_tau_lc,
    eq3,
    fit_eq3,
    fit_master_curve,
    linear_fit,
    rescale,
)
from taulc.dynamics.synthetic import caged_noise

LC2 = 0.057


# ----------------------------------------------------------------------------- estimators
def test_km_equals_mean_without_censoring_and_min_with_common_censoring():
    rng = np.random.default_rng(0)
    t = rng.exponential(5.0, (8, 500))
    np.testing.assert_allclose(km_restricted_mean(t, 1e9), t.mean(0))
    tc = np.where(t > 6.0, np.nan, t)
    est, frac, allc = ice_estimate(tc, 6.0, "km")
    np.testing.assert_allclose(est, np.minimum(t, 6.0).mean(0))
    np.testing.assert_allclose(frac, (t > 6.0).mean(0))
    assert np.array_equal(allc, (t > 6.0).all(0))
    assert np.all(est[allc] == 6.0)  # lower bound = t_max, flagged


def test_km_with_unequal_censoring_matches_lifelines_style_formula():
    # hand-computed: times 1 (event), 2 (censored), 3 (event), horizon 4
    tau = np.array([[1.0], [np.nan], [3.0]])
    cens = np.array([4.0, 2.0, 4.0])
    # S = 1 on [0,1), 2/3 on [1,3) (censoring at 2 changes risk set), 2/3*(1-1/1)=0 after 3
    expected = 1.0 + 2 / 3 * 2 + 0.0
    assert km_restricted_mean(tau, cens)[0] == pytest.approx(expected)


def test_other_estimators():
    tau = np.array([[1.0, np.nan], [3.0, np.nan]])
    est, _, allc = ice_estimate(tau, 10.0, "mean_uncensored")
    assert est[0] == 2.0 and np.isnan(est[1]) and allc[1]
    est, _, _ = ice_estimate(np.array([[1.0], [np.nan]]), 10.0, "exp_mle")
    assert est[0] == pytest.approx(11.0)
    with pytest.raises(ValueError, match="estimator"):
        ice_estimate(tau, 10.0, "median")


def test_spearman_brown_on_planted_reliability():
    rng = np.random.default_rng(1)
    n, r, rho1 = 20000, 8, 0.3  # single-replica reliability
    signal = rng.normal(0, np.sqrt(rho1), n)
    x = signal[None] + rng.normal(0, np.sqrt(1 - rho1), (r, n))
    expected = r * rho1 / (1 + (r - 1) * rho1)  # reliability of the 8-replica mean
    got = split_half_reliability(x, lambda h: h.mean(0), n_splits=5, transform=None)
    assert got == pytest.approx(expected, abs=0.02)
    assert spearman_brown(0.5) == pytest.approx(2 / 3)


def test_classify_slow_eq2():
    s = classify_slow(np.array([10.0, 10.0, 3.0]), np.array([5.0, 8.0, 3.0]), 2.0)
    assert s.tolist() == [True, True, False]


# ----------------------------------------------------------------------------- relation
def test_eq3_fit_and_boundary():
    rng = np.random.default_rng(2)
    tau_lc = np.exp(rng.uniform(np.log(0.5), np.log(200), 20000))
    tau_sh = eq3(tau_lc, 30.0, 25.0) * np.exp(rng.normal(0, 0.1, tau_lc.size))
    rel = bin_relation(tau_lc, tau_sh, n_bins=25)
    tinf, t0, _ = fit_eq3(rel)
    assert tinf == pytest.approx(30.0 * np.exp(0.005), rel=0.05)
    assert t0 == pytest.approx(25.0, rel=0.05)
    c_bins = boundary_tau_lc(rel, 3.0)
    c_fit = boundary_tau_lc(rel, 3.0, fit=(tinf, t0))
    assert c_fit - eq3(c_fit, tinf, t0) == pytest.approx(3.0, rel=1e-6)
    assert c_bins == pytest.approx(c_fit, rel=0.25)


def test_master_curve_recovers_rescaling():
    a, b, c, lam = 0.5, 2.0, 0.8, 0.7
    rates = [1e-3, 3e-3, 1e-2, 3e-2]
    fits = {g: (c * g**-lam, a / g + b) for g in rates}
    mc = fit_master_curve(fits)
    assert (mc.a, mc.b, mc.c, mc.lam) == pytest.approx((a, b, c, lam), rel=1e-6)
    x = np.geomspace(0.1, 1000, 50)
    xs, ys = rescale(x, eq3(x, *fits[1e-2]), 1e-2, mc)
    np.testing.assert_allclose(ys, -np.expm1(-xs), rtol=1e-9)
    assert linear_fit([1, 2, 3], [3, 5, 7]) == pytest.approx((2.0, 1.0))


# ----------------------------------------------------------------------------- driver
class FakeEngine:
    """Synthetic ICE engine: particle i jumps as a renewal process with mean waiting time
    ``tau_i`` (shear off) or ``tau_i / (1 + rate tau_i / 2)`` (shear on), planted into caged
    noise.  The same seed gives the same random numbers at both rates (common velocities)."""

    def __init__(self, dt: float = 0.1):
        self.dt = dt
        self.calls = []

    def __call__(self, conf, *, rate_after, n_replicas, t_max, sample_interval, seed):
        self.calls.append((rate_after, seed))
        f = int(round(t_max / sample_interval)) + 1
        times = np.arange(f) * sample_interval
        tau = conf.tau / (1.0 + rate_after * conf.tau / 2.0)
        for r in range(n_replicas):
            rng = np.random.default_rng([seed, r])
            n = tau.size
            x = caged_noise(f, n, np.sqrt(LC2 / 12), rng=rng)
            waits = rng.exponential(1.0, (12, n)) * tau[None]
            tj = np.cumsum(waits, axis=0)
            dirs = rng.normal(size=(12, n, 3))
            dirs *= 3 * np.sqrt(LC2) / np.linalg.norm(dirs, axis=2, keepdims=True)
            for k in range(12):
                fr = np.ceil(tj[k] / sample_interval).astype(int)
                x += (np.arange(f)[:, None] >= fr[None])[:, :, None] * dirs[k][None]
            yield SimpleNamespace(times=times, nonaffine=x, meta={"seed": int(seed) * 1000 + r})


@pytest.fixture(scope="module")
def fake_labels():
    rng = np.random.default_rng(3)
    conf = SimpleNamespace(tau=np.exp(rng.uniform(np.log(1.0), np.log(15.0), 300)))
    eng = FakeEngine()
    st = LabelSettings(
        n_replicas=6, t_max=30.0, sample_interval=0.1, lc2=LC2, mobility_times=("tau_2", 5.0), reliability_splits=4
    )
    ref = {"tau_2": 1.5, "tau_alpha": 4.0, "q": 7.25}
    lab = label_configuration(eng, conf, 0.2, st, reference=ref, seed=11)
    return conf, eng, st, ref, lab


def test_label_driver_contract_and_physics(fake_labels):
    conf, eng, st, ref, lab = fake_labels
    n = conf.tau.size
    assert lab.tau_lc.shape == lab.tau_sh.shape == (n,)
    assert lab.first_jump_lc.shape == lab.first_jump_sh.shape == (6, n)
    assert lab.mobility.shape == (2, n) and np.all(np.isfinite(lab.mobility))
    np.testing.assert_allclose(lab.mobility_times, [1.5, 5.0])
    assert lab.tau_2 == 1.5 and lab.lc2 == LC2 and lab.t_max == pytest.approx(30.0)
    # the driver recovers the planted propensity
    r = np.corrcoef(np.log(lab.tau_lc), np.log(conf.tau))[0, 1]
    assert r > 0.7
    assert np.mean(lab.tau_sh) < np.mean(lab.tau_lc)
    assert 0.5 < lab.reliability_lc <= 1.0 and 0.3 < lab.reliability_sh <= 1.0
    assert np.all(np.isfinite(lab.reliability_mobility))
    assert np.array_equal(lab.slow, lab.tau_lc - lab.tau_sh >= 1.5)
    assert lab.p_slow == pytest.approx(lab.slow.mean())
    # censoring is flagged, never hidden
    assert np.all(np.isnan(lab.first_jump_lc) | (lab.first_jump_lc > 0))
    assert np.allclose(lab.censored_lc, np.isnan(lab.first_jump_lc).mean(0))
    # common random velocities: both conditions used the same seed
    assert eng.calls[0][1] == eng.calls[1][1] == 11
    arrays = lab.to_arrays()
    for k in (
        "tau_lc",
        "tau_sh",
        "censored_lc",
        "censored_sh",
        "first_jump_lc",
        "first_jump_sh",
        "mobility",
        "slow",
        "tau_2",
        "tau_alpha",
        "lc2",
        "t_max",
        "reliability_lc",
        "reliability_sh",
        "reliability_mobility",
    ):
        assert k in arrays


def test_label_driver_reuse_and_rate_zero(fake_labels):
    conf, _, st, ref, lab = fake_labels
    eng = FakeEngine()
    lc = run_ice(eng, conf, 0.0, st, 11, lc2=LC2)
    lab2 = label_configuration(eng, conf, 0.2, st, reference=ref, seed=11, lc_run=lc)
    np.testing.assert_array_equal(lab2.tau_lc, lab.tau_lc)  # deterministic, reused
    np.testing.assert_array_equal(lab2.tau_sh, lab.tau_sh)
    lab0 = label_configuration(eng, conf, 0.0, st, reference=ref, seed=11, lc_run=lc)
    np.testing.assert_array_equal(lab0.tau_sh, lab0.tau_lc)
    assert not lab0.slow.any()


def test_settings_validation():
    with pytest.raises(ValueError, match="labels.estimator"):
        LabelSettings.from_config({"estimator": "median"})
    with pytest.raises(ValueError, match="labels.lc2"):
        LabelSettings.from_config({"lc2": "plateau"})
    st = LabelSettings.from_config({"n_replicas": 4, "mobility_times": [1.0, "tau_alpha"], "foo": 1})
    assert st.n_replicas == 4 and st.mobility_times == (1.0, "tau_alpha")
