"""Local caging-potential depth βΦ_r (Sharma, Nandi & Bhattacharyya 2022, Eqs. 5, 6, 8): brute-force integral and limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from taulc.structure import LJTable, RadialGrid, caging_cutoffs, caging_depth
from tests.helpers.structure_reference import brute_pairs, random_tilted_box

CUTS = {"bb": (0.8, 1.45), "bs": (0.65, 1.25), "ss": (0.7, 1.3)}


def fcc(n_cells: int, rho: float, noise: float, rng: np.random.Generator):
    n = 4 * n_cells**3
    length = (n / rho) ** (1 / 3)
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    pos = ((grid + base) / n_cells).reshape(-1, 3) * length + rng.normal(0.0, noise, (n, 3))
    return pos, np.eye(3) * length


def brute_phi(pos, sp, cell, temperature, lj, cuts, centres, delta=0.09, truncation=5.0):
    """Eqs. 5, 6, 8 with scipy.integrate.quad and explicit images (independent of the grid code)."""
    n = len(pos)
    vol = abs(np.linalg.det(cell))
    counts = np.bincount(sp, minlength=2)
    x, rho_v = counts / n, counts / vol
    keys = {0: "bb", 1: "bs", 2: "ss"}
    out = np.zeros((n, 3))
    for i, j, v in brute_pairs(pos, cell, 3.0):
        if i not in centres:
            continue
        d = np.linalg.norm(v, axis=1)
        u = sp[i]
        for s in (0, 1):
            ds = d[sp[j] == s]
            lo, hi = cuts[keys[u + s]]

            def integrand(r, ds=ds, s=s, u=u):
                t = r - ds
                nn = np.sum(np.where(np.abs(t) < truncation * delta, np.exp(-(t**2) / (2 * delta**2)), 0.0))
                nn /= math.sqrt(2 * math.pi * delta**2)
                g = nn / (4 * math.pi * r * r * rho_v[s])
                bu = float(lj.potential(r, u, s)) / temperature
                glng = g * math.log(g) if g > 0 else 0.0
                return nn * (-bu + g - 1.0) - 4 * math.pi * r * r * rho_v[s] * glng

            val, _ = quad(integrand, lo, hi, limit=200, epsabs=1e-9, epsrel=1e-8)
            out[i, s] = -0.5 * math.sqrt(x[u] / x[s]) * val
    out[:, 2] = out[:, 0] + out[:, 1]
    return out


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_caging_matches_brute_force_integral():
    pos, sp, cell = random_tilted_box(40, 1.2, 0.3, np.random.default_rng(11), min_dist=0.75)
    lj = LJTable()
    grid = RadialGrid.from_range(0.5, 2.0, 0.001)
    fast = caging_depth(pos, sp, cell, 0.8, lj=lj, grid=grid, cutoffs=CUTS)
    centres = [0, 1, 2, 3] + np.nonzero(sp == 1)[0][:4].tolist()  # both centre species
    ref = brute_phi(pos, sp, cell, 0.8, lj, CUTS, centres)[centres]
    assert np.all(np.isfinite(fast))
    # trapezoid on a 0.001 grid vs adaptive quadrature
    assert np.allclose(fast[centres], ref, rtol=2e-4, atol=2e-4 * np.abs(ref).max())


def test_perfect_crystal_is_uniform_and_deeper_than_disordered():
    rng = np.random.default_rng(0)
    cuts = {k: (0.85, 1.4) for k in ("bb", "bs", "ss")}
    pos, cell = fcc(4, 1.2, 0.0, rng)
    sp = np.zeros(len(pos), dtype=np.int64)
    phi = caging_depth(pos, sp, cell, 0.6, cutoffs=cuts)
    assert np.ptp(phi[:, 2]) < 1e-9 * abs(phi[0, 2])
    assert np.all(phi[:, 1] == 0.0)  # no small particles
    # same in any stored image / after a translation across the boundary
    moved = pos + rng.uniform(-5, 5, 3) + rng.integers(-2, 3, (len(pos), 3)) @ cell
    assert np.allclose(caging_depth(moved, sp, cell, 0.6, cutoffs=cuts), phi)
    # a sharper cage is deeper (more negative βΦ; the seed's "higher Φ at lower T" is the depth |βΦ|)
    for noise in (0.04, 0.08):
        pos_d, _ = fcc(4, 1.2, noise, rng)
        phi_d = caging_depth(pos_d, sp, cell, 0.6, cutoffs=cuts)
        assert phi[0, 2] < phi_d[:, 2].mean()
        assert phi_d[:, 2].std() > 0.05


def test_empty_rdf_regions_are_finite_and_auto_cutoffs():
    # perfect FCC: the smeared rdf is exactly 0 between shells (1.06 +- 0.45 ... 1.49 +- 0.45 overlap little)
    pos, cell = fcc(3, 1.2, 0.0, np.random.default_rng(1))
    sp = np.zeros(len(pos), dtype=np.int64)
    wide = {k: (0.5, 2.2) for k in ("bb", "bs", "ss")}
    phi = caging_depth(pos, sp, cell, 1.0, cutoffs=wide)
    assert np.all(np.isfinite(phi))
    cuts = caging_cutoffs(pos, sp, cell)
    nn = (4 / 1.2) ** (1 / 3) / math.sqrt(2)
    lo, hi = cuts["bb"]
    assert lo <= nn < hi and hi < (4 / 1.2) ** (1 / 3)


def test_auto_cutoffs_on_disordered_binary():
    rng = np.random.default_rng(5)
    pos, cell = fcc(4, 1.2, 0.07, rng)
    sp = (rng.random(len(pos)) < 0.2).astype(np.int64)
    cuts = caging_cutoffs(pos, sp, cell)
    for key, (lo, hi) in cuts.items():
        assert 0.5 <= lo < hi <= 2.5, key
    phi = caging_depth(pos, sp, cell, 1.0)
    assert phi.shape == (len(pos), 3) and np.all(np.isfinite(phi))


def test_lj_table():
    lj = LJTable()
    assert lj.potential(np.array([2.5 * 0.8]), 0, 1)[0] == pytest.approx(0.0, abs=1e-12)
    assert lj.potential(np.array([3.0]), 0, 0)[0] == 0.0
    glob = LJTable.from_config({"epsilon": {"bb": 1, "bs": 1.5, "ss": 0.5}, "cutoff_mode": "global"})
    assert glob.rcut(1, 1) == 2.5 and lj.rcut(1, 1) == pytest.approx(2.2)
    with pytest.raises(ValueError):
        LJTable.from_config({"cutoff_mode": "weird"})
