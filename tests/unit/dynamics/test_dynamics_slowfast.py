"""Eq. 2 under replica noise (taulc.dynamics.slowfast) and Eq. 5 with its bootstrap error."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.dynamics.estimators import km_restricted_mean
from taulc.dynamics.slowfast import classify_slow_tested, paired_difference, slow_fraction
from taulc.physics.duality import duality_bootstrap, duality_from_labels

T_MAX, TAU_2 = 60.0, 10.0


def _pairs(rng, n, r, mean_lc, mean_sh):
    """Exponential first jumps per particle (means (N,)), censored at T_MAX as NaN."""
    lc = rng.exponential(mean_lc, (r, n))
    sh = rng.exponential(mean_sh, (r, n))
    return np.where(lc < T_MAX, lc, np.nan), np.where(sh < T_MAX, sh, np.nan)


def test_paired_difference_is_the_km_difference_and_its_replica_error():
    rng = np.random.default_rng(0)
    lc, sh = _pairs(rng, 400, 6, rng.uniform(5, 80, 400), rng.uniform(5, 80, 400))
    d, se = paired_difference(lc, sh, T_MAX)
    np.testing.assert_allclose(d, km_restricted_mean(lc, T_MAX) - km_restricted_mean(sh, T_MAX), atol=1e-10)
    rl, rs = (np.minimum(np.nan_to_num(x, nan=T_MAX), T_MAX) for x in (lc, sh))
    np.testing.assert_allclose(se, (rl - rs).std(axis=0, ddof=1) / np.sqrt(6))


def test_noise_alone_gives_p_slow_equal_to_its_mirror():
    """Shear changes nothing (same τ distribution on and off, R = 6 as the demo): Eq. 2 as printed
    flags ~13 % of the particles, the mirrored condition as many, the excess is zero within 3 s.e.,
    and the per-particle test keeps false positives below its 5 % level."""
    rng = np.random.default_rng(1)
    lcs, shs = [], []
    for _ in range(5):
        mean = rng.lognormal(np.log(25), 0.6, 1500)
        lc, sh = _pairs(rng, 1500, 6, mean, mean)
        lcs.append(lc)
        shs.append(sh)
    sf = slow_fraction(lcs, shs, T_MAX, TAU_2)
    assert sf.p_slow > 0.08  # the naive Eq. 2 reads noise as slow particles
    assert abs(sf.excess) < 3 * sf.excess_se
    assert sf.p_tested < 0.05 and sf.p_tested_mirror < 0.05


def test_planted_slow_particles_are_recovered():
    """A planted 30 % of particles with τ_LC = 40, τ_sh = 2 (surely slow), the rest exchangeable:
    the noise-corrected excess recovers 0.30 while the naive p_slow overshoots it."""
    rng = np.random.default_rng(2)
    lcs, shs, planted = [], [], []
    for _ in range(5):
        n = 1500
        hit = rng.random(n) < 0.3
        mean = rng.lognormal(np.log(25), 0.6, n)
        lc, sh = _pairs(rng, n, 6, np.where(hit, 40.0, mean), np.where(hit, 2.0, mean))
        lcs.append(lc)
        shs.append(sh)
        planted.append(hit.mean())
    sf = slow_fraction(lcs, shs, T_MAX, TAU_2)
    truth = float(np.mean(planted))
    # planted particles pass Eq. 2 with P(D ≥ τ_2) ≲ 1 at R = 6 (exponential noise): excess ≲ truth
    assert truth - 0.05 < sf.excess < truth + 0.03
    assert sf.p_slow > sf.excess + 0.05
    d, se = paired_difference(lcs[0], shs[0], T_MAX)
    tested = classify_slow_tested(d, se, TAU_2)
    assert tested.sum() > 0 and tested[~(np.abs(d) > 0)].sum() == 0


def test_duality_bootstrap_central_value_and_eta_eq_propagation():
    """Central value = Eq. 5 on the restricted-mean labels; with identical replicas (no label noise)
    and one configuration per set, the only spread is η_eq's, entering Eq. 5 linearly."""
    rng = np.random.default_rng(3)
    n = 800
    lc1 = rng.exponential(30.0, n)
    sh1 = rng.exponential(8.0, n)
    eq1 = rng.exponential(30.0, n)
    rep = lambda x: np.tile(np.where(x < T_MAX, x, np.nan), (4, 1))  # noqa: E731
    u = duality_bootstrap(
        0.01, [rep(lc1)], [rep(sh1)], [rep(eq1)], T_MAX, TAU_2, eta_eq=100.0, eta_eq_se=10.0, g_eff=16.0, n_boot=400, seed=0
    )
    tl, ts, te = (np.minimum(x, T_MAX) for x in (lc1, sh1, eq1))
    ref = duality_from_labels(0.01, ts, (tl - ts) >= TAU_2, te, 100.0, 16.0)
    assert u.eta == pytest.approx(ref.eta, rel=1e-12)
    assert u.p_slow_se < 1e-12 and u.tau_el_se < 1e-12
    slope = (1 - ref.p_slow) * ref.tau_sh_fast_mean / ref.tau_lc_eq_mean  # dη/dη_eq
    assert u.eta_se == pytest.approx(slope * 10.0, rel=0.12)  # 400 draws: s.d. to ~4 %
