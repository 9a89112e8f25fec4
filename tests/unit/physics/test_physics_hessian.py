"""Inherent states, the analytic Hessian, G (Eq. A1) and κ (Eq. A4) of Kapteijns et al. 2021.

References: finite differences of LAMMPS's forces, a dense pseudo-inverse,
LAMMPS stress-strain slopes of relaxed shears, and the Born lattice sum of an
FCC Lennard-Jones crystal computed from lattice vectors (no neighbour list).
"""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import Configuration, LammpsEngine
from taulc.physics.elasticity import HessianSolver, dipole_stiffness, shear_modulus
from taulc.physics.hessian import PairTable, hessian, interacting_pairs, strain_derivatives
from tests.helpers.physics import tiny_inherent_state, tiny_system


@pytest.fixture(scope="module", params=[("global", 0.0), ("per_pair", 0.13)], ids=["global", "per_pair-tilted"])
def case(request):
    mode, tilt = request.param
    system = tiny_system(cutoff_mode=mode)
    return system, tiny_inherent_state(system, tilt=tilt)


def test_minimize_records_force_norm_and_keeps_cell(case):
    system, conf = case
    info = conf.meta["minimize"]
    assert info["style"] == "cg" and info["fnorm"] < 1e-9 and info["iterations"] > 0
    with LammpsEngine(system, n_threads=1) as eng:
        f, _, _ = eng.forces(conf)
    assert np.linalg.norm(f) < 1e-8
    assert conf.velocities is None


def test_hessian_equals_finite_differences_of_engine_forces(case):
    system, conf = case
    table = PairTable.from_system(system)
    m = hessian(conf.positions, conf.species, conf.cell, table).toarray()
    assert np.abs(m - m.T).max() < 1e-9 * np.abs(m).max()
    pairs = interacting_pairs(conf.positions, conf.species, conf.cell, table)
    rc = table.cutoff[conf.species[pairs.i], conf.species[pairs.j]]
    h = 1e-5
    rng = np.random.default_rng(0)
    # columns of particles whose pairs all stay on one side of the (force-discontinuous) cut-off
    near = np.unique(np.concatenate([pairs.i, pairs.j])[np.tile(np.abs(pairs.distances - rc) < 10 * h, 2)])
    cand = np.setdiff1d(np.arange(conf.n_atoms), near)
    cols = [3 * a + b for a in rng.choice(cand, 4, replace=False) for b in range(3)]
    with LammpsEngine(system, n_threads=1) as eng:
        for col in cols:
            fs = []
            for s in (+1, -1):
                c = Configuration(conf.positions.copy(), conf.species, conf.cell)
                c.positions.reshape(-1)[col] += s * h
                fs.append(eng.forces(c)[0].ravel())
            fd = -(fs[0] - fs[1]) / (2 * h)
            assert np.abs(fd - m[:, col]).max() < 1e-6 * np.abs(m).max()


def test_solver_tolerance_and_kappa_against_dense_pseudo_inverse(case):
    system, conf = case
    table = PairTable.from_system(system)
    m = hessian(conf.positions, conf.species, conf.cell, table)
    solver = HessianSolver(m, tol=1e-10)
    res = dipole_stiffness(conf.positions, conf.species, conf.cell, table, solver=solver, batch=40)
    batched = dipole_stiffness(
        conf.positions, conf.species, conf.cell, table, solver=solver, batch=40, dense_bytes=0
    )  # the bounded-memory path (6N batched solves)
    assert solver.max_residual <= 1e-10
    md = m.toarray()
    w, v = np.linalg.eigh(md)
    assert np.abs(w[:3]).max() < 1e-8 and w[3] > 1e-3  # three translations, nothing else
    pinv = (v[:, 3:] / w[3:]) @ v[:, 3:].T
    pairs = interacting_pairs(conf.positions, conf.species, conf.cell, table)
    n = pairs.vectors / pairs.distances[:, None]
    d = np.zeros((3 * conf.n_atoms, len(pairs)))
    k = np.arange(len(pairs))
    for b in range(3):
        d[3 * pairs.j + b, k] += n[:, b] / np.sqrt(2)
        d[3 * pairs.i + b, k] -= n[:, b] / np.sqrt(2)
    z = pinv @ d  # Eq. A3
    kappa = np.einsum("ip,ip->p", d, z) / np.einsum("ip,ip->p", z, z)  # Eq. A4
    assert np.allclose(res.kappa_pairs, kappa, rtol=1e-7)
    assert np.allclose(batched.kappa_pairs, kappa, rtol=1e-7)
    # z solved directly: M z = d to the stated tolerance
    zz = solver.solve(d[:, :50])
    assert (np.linalg.norm(md @ zz - d[:, :50], axis=0) <= 1e-10 * np.linalg.norm(d[:, :50], axis=0)).all()
    assert np.all(res.kappa_pairs > 0) and np.isfinite(res.kappa_local).all()


def test_G_equals_relaxed_stress_strain_slope(case):
    """Eq. A1 against LAMMPS: shear the IS affinely by ±δγ (tilt), relax at fixed cell, σ = -p_xy."""
    system, conf = case
    table = PairTable.from_system(system)
    g = shear_modulus(conf.positions, conf.species, conf.cell, table)
    dg = 1e-5
    sig = []
    with LammpsEngine(system, n_threads=1) as eng:
        _, _, p0 = eng.forces(conf)
        assert abs(-p0 - g.stress) < 1e-8  # ∂U/∂γ / V is the shear stress
        for s in (+1, -1):
            cell = conf.cell.copy()
            cell[1, 0] += s * dg * cell[1, 1]
            pos = conf.positions.copy()
            pos[:, 0] += s * dg * pos[:, 1]
            relaxed = eng.minimize(Configuration(pos, conf.species, cell), ftol=1e-11)
            sig.append(-eng.forces(relaxed)[2])
    slope = (sig[0] - sig[1]) / (2 * dg)
    assert g.nonaffine > 0.05 * g.born  # a glass relaxes non-affinely
    assert abs(g.G - slope) < 0.01 * abs(g.G)


def test_born_modulus_of_fcc_crystal():
    """Perfect FCC LJ crystal: Ξ = 0 (no non-affine relaxation) and G = C44 from the lattice sum."""
    a = 1.55  # lattice constant (ρ = 4 / a³ ≈ 1.07)
    cells = 4
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = ((grid[:, None, :] + basis[None]) * a).reshape(-1, 3)
    cell = np.eye(3) * cells * a
    sp = np.zeros(len(pos), dtype=np.int64)
    table = PairTable.kob_andersen(cutoff=2.5)
    der = strain_derivatives(pos, sp, cell, table)
    assert np.abs(der.xi).max() < 1e-10
    g = shear_modulus(pos, sp, cell, table)
    assert abs(g.nonaffine) < 1e-10 * g.born
    # lattice sum over FCC vectors R (one atom per primitive cell, volume a³/4)
    rng_ = np.arange(-4, 5)
    lat = np.stack(np.meshgrid(rng_, rng_, rng_, indexing="ij"), -1).reshape(-1, 3)
    r = ((lat[:, None, :] + basis[None]) * a).reshape(-1, 3)
    d = np.linalg.norm(r, axis=1)
    r, d = r[(d > 0) & (d < 2.5)], d[(d > 0) & (d < 2.5)]
    s6 = d**-6.0
    d1 = 4 * (-12 * s6 * s6 + 6 * s6) / d
    d2 = 4 * (156 * s6 * s6 - 42 * s6) / d**2
    x, y = r[:, 0], r[:, 1]
    c44 = 0.5 * np.sum(d2 * (x * y / d) ** 2 + d1 / d * (y**2 - (x * y / d) ** 2)) / (a**3 / 4)
    assert abs(g.G - c44) < 1e-10 * abs(c44)
    assert c44 > 0


def test_pairs_and_hessian_identical_with_z_slab_neighbour_blocks():
    rng = np.random.default_rng(2)
    n = 1200
    length = (n / 1.2) ** (1 / 3)
    cell = np.diag([length] * 3)
    cell[1, 0] = 0.2 * length
    pos = rng.uniform(size=(n, 3)) @ cell
    sp = (rng.random(n) < 0.2).astype(np.int64)
    table = PairTable.kob_andersen(cutoff_mode="per_pair")
    one = interacting_pairs(pos, sp, cell, table)
    sliced = interacting_pairs(pos, sp, cell, table, max_pairs=15_000)  # forces several z-slabs
    assert len(one) == len(sliced)

    def key(p):
        return np.sort(np.round(np.c_[np.minimum(p.i, p.j), np.maximum(p.i, p.j), p.distances], 9), axis=0)

    assert np.array_equal(key(one), key(sliced))
    h1 = hessian(pos, sp, cell, table, one)
    h2 = hessian(pos, sp, cell, table, sliced)
    assert abs(h1 - h2).max() < 1e-9 * abs(h1).max()
