"""Correlators against brute-force formulas; α2 = 0 for Gaussian displacements; S(q); peaks."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.dynamics.correlators import (
    compute_correlators,
    crossing_time,
    first_peak_q,
    peak_time,
    structure_factor,
)


def _brute(x, lags, origins_for, q, a):
    """Loops over lags, origins and particles (the definitions, literally)."""
    out = {"msd": [], "r4": [], "fs": [], "var_q": []}
    for lag in lags:
        r2s, qs = [], []
        for o in origins_for(lag):
            qo = 0
            for i in range(x.shape[1]):
                d = x[o + lag, i] - x[o, i]
                r2 = float(d @ d)
                r2s.append(r2)
                qo += np.sqrt(r2) <= a
            qs.append(qo)
        r2s = np.array(r2s)
        r = np.sqrt(r2s)
        out["msd"].append(r2s.mean())
        out["r4"].append((r2s**2).mean())
        out["fs"].append(np.mean(np.sin(q * r) / (q * r)))
        out["var_q"].append(np.var(qs))
    return {k: np.array(v) for k, v in out.items()}


def test_against_brute_force():
    rng = np.random.default_rng(0)
    f, n = 40, 7
    x = np.cumsum(rng.normal(0, 0.1, (f, n, 3)), axis=0)
    t = np.arange(f) * 0.5
    lags = np.array([1, 2, 5, 11, 30])
    c = compute_correlators(x, t, q=7.25, a=0.25, lags=lags, max_origins=1000)
    b = _brute(x, lags, lambda lag: range(f - lag), 7.25, 0.25)
    np.testing.assert_allclose(c.msd, b["msd"], rtol=1e-12)
    np.testing.assert_allclose(c.r4, b["r4"], rtol=1e-12)
    np.testing.assert_allclose(c.fs, b["fs"], rtol=1e-10)
    np.testing.assert_allclose(c.alpha2, 3 * b["r4"] / (5 * b["msd"] ** 2) - 1, rtol=1e-10)
    np.testing.assert_allclose(c.chi4, b["var_q"] / n, rtol=1e-10)
    np.testing.assert_allclose(c.t, lags * 0.5)
    # Eq. 14 prefactor βV/N²
    c2 = compute_correlators(x, t, lags=lags, max_origins=1000, temperature=0.5, volume=20.0)
    np.testing.assert_allclose(c2.chi4, 20.0 / (0.5 * n**2) * b["var_q"], rtol=1e-10)


def test_single_origin_and_replicas_pool():
    rng = np.random.default_rng(1)
    x1, x2 = (np.cumsum(rng.normal(0, 0.1, (20, 5, 3)), axis=0) for _ in range(2))
    t = np.geomspace(0.1, 10, 20)  # non-uniform -> single origin at frame 0
    c = compute_correlators([x1, x2], t)
    both = np.concatenate([x1, x2], axis=1)
    d = both[1:] - both[:1]
    np.testing.assert_allclose(c.msd, (d**2).sum(-1).mean(1))
    assert c.meta["multi_origin"] is False and c.meta["n_replicas"] == 2


def test_alpha2_zero_for_gaussian():
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(0, 0.05, (200, 4000, 3)), axis=0)
    c = compute_correlators(x, np.arange(200) * 0.1, max_origins=8)
    # α2 standard error ≈ sqrt(8/3)/sqrt(samples) ~ 0.01 per lag (correlated)
    assert np.max(np.abs(c.alpha2[c.t < 10])) < 0.05
    # F_s of a Gaussian: exp(-q² msd / 6)
    np.testing.assert_allclose(c.fs, np.exp(-(7.25**2) * c.msd / 6), atol=0.01)


def test_mask_selects_particles():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(0, 0.1, (30, 10, 3)), axis=0)
    x[:, 5:] *= 3
    m = np.arange(10) < 5
    c = compute_correlators(x, np.arange(30.0), mask=m)
    c0 = compute_correlators(x[:, :5], np.arange(30.0))
    np.testing.assert_allclose(c.msd, c0.msd)


def test_peak_and_crossing():
    t = np.geomspace(0.01, 100, 121)
    y = np.exp(-((np.log(t) - np.log(2.0)) ** 2))
    tp, yp = peak_time(t, y)
    assert tp == pytest.approx(2.0, rel=1e-3) and yp == pytest.approx(1.0, abs=1e-4)
    fs = np.exp(-t / 3.0)
    assert crossing_time(t, fs) == pytest.approx(3.0, rel=0.01)
    assert np.isnan(crossing_time(t, np.ones_like(t)))


def test_structure_factor_of_fcc_and_liquid_like():
    # simple cubic lattice a=1 in L=6: Bragg vectors (6,0,0)·2π/L have S = N; the same
    # shell also holds (4,4,2)-type vectors with S = 0, so the shell mean is N·3/15
    g = np.arange(6.0)
    pos = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3) + 0.01
    cell = np.eye(3) * 6.0
    q, s = structure_factor(pos, cell, q_max=7.0, dq=0.05)
    k = np.argmin(np.abs(q - 2 * np.pi))
    assert s[k] == pytest.approx(pos.shape[0] * 3 / 15, rel=1e-6)
    assert s[q < 6.0].max() < 1e-6
    # tilted cell: reciprocal vectors follow the tilt
    cell_t = np.array([[6.0, 0, 0], [2.0, 6.0, 0], [0, 0, 6.0]])
    frac = np.linalg.solve(np.eye(3) * 6.0, pos.T).T
    qt, st = structure_factor(frac @ cell_t, cell_t, q_max=7.0, dq=0.05)
    # Bragg shells only appear if the q vectors are the tilted cell's reciprocal lattice
    assert st.max() > 0.05 * pos.shape[0]
    # jittered lattice -> broad first peak near 2π
    rng = np.random.default_rng(0)
    assert first_peak_q(pos + rng.normal(0, 0.08, pos.shape), cell, q_range=(4.0, 8.0)) == pytest.approx(2 * np.pi, abs=0.3)
