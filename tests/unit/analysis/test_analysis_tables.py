"""Power-law fit of η(γ̇) (Fig. 1) and the p_H / H̄ tables of Fig. 20 against hand computations."""

from __future__ import annotations

import numpy as np

from taulc.analysis.hardness import hardness_tables
from taulc.analysis.rheology import fit_power_law, thinning_regime


def test_power_law_recovers_planted_lambda():
    rng = np.random.default_rng(0)
    rate = np.array([3e-3, 1e-2, 3e-2, 1e-1, 3e-1])
    eta = 2.5 * rate**-0.67 * np.exp(rng.normal(scale=0.01, size=5))
    pl = fit_power_law(rate, eta, sem=0.01 * eta)
    assert abs(pl.lam - 0.67) < 0.02 and abs(pl.prefactor / 2.5 - 1) < 0.1 and pl.lam_err < 0.02
    exact = fit_power_law(rate[:2], 3.0 * rate[:2] ** -0.5)
    assert abs(exact.lam - 0.5) < 1e-12 and abs(exact.prefactor - 3.0) < 1e-9


def test_thinning_regime_auto_and_fixed():
    rate = np.array([0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1])
    eta = 20.0 / (1 + rate / 2e-3) ** 0.7  # Newtonian plateau, then thinning
    eta[0] = np.nan
    m = thinning_regime(rate, eta, slope_threshold=0.3)
    assert list(rate[m]) == [1e-2, 3e-2, 1e-1]
    assert list(rate[thinning_regime(rate, eta, min_rate=3e-2)]) == [3e-2, 1e-1]
    lam = fit_power_law(rate[m], eta[m]).lam
    assert 0.5 < lam < 0.7


def test_hardness_tables_by_hand():
    h = np.array([-1.0, 2.0, 0.5, -0.5, 3.0, 1.0, -2.0])
    rate = np.array([0, 0, 0, 0.1, 0.1, 0.1, 0.1])
    slow = np.array([0, 1, 0, 1, 1, 1, 0])
    cid = np.array([0, 0, 1, 2, 2, 3, 3])
    per_rate, per_cfg = hardness_tables(h, rate, slow, cid, {0: "train", 1: "test", 2: "train", 3: "val"})
    r0, r1 = per_rate.iloc[0], per_rate.iloc[1]
    assert np.isclose(r0.H_mean, 0.5) and np.isclose(r0.p_H, 2 / 3) and np.isclose(r0.p_slow, 1 / 3)
    assert np.isclose(r1.H_mean, 0.375) and np.isclose(r1.p_H, 0.5) and np.isclose(r1.p_slow, 0.75)
    assert np.isclose(r1.p_H_minus_p_slow, -0.25)
    assert np.isclose(r0.H_sem, np.std([-1, 2, 0.5], ddof=1) / np.sqrt(3))
    assert np.isclose(r1.sign_agreement, 0.75)  # (H > 0, slow): (F,T) (T,T) (T,T) (F,F)
    assert list(per_cfg.split) == ["train", "test", "train", "val"]
    assert np.allclose(per_cfg.p_H, [0.5, 1.0, 0.5, 0.5]) and np.allclose(per_cfg.H_mean, [0.5, 0.5, 1.25, -0.5])
