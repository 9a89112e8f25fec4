"""Per-particle shear stress recorded by the LAMMPS engine (Zeng, Yu & Wang 2025, Eq. 2-4).

* Σ_i σ_i,xy Ω_i / V equals minus the engine's virial p_xy (Eq. 1) to 1e-8, frame by
  frame, for window-averaged frames and the instantaneous first frame.
* The first frame's σ_i,xy equals a brute-force numpy pair sum of Eq. 2 (½ per pair).
* Eq. 3 volumes: Ω_b/Ω_s = (d_b/d_s)³ and N_b Ω_b + N_s Ω_s = V.
* Off by default (existing runs unchanged).
"""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import LammpsEngine, Segment, SystemSpec
from taulc.md.atomic_stress import particle_volumes, region_stress
from taulc.structure import neighbor_list


@pytest.fixture(scope="module")
def system() -> SystemSpec:
    return SystemSpec(name="tiny", n_atoms=400, density=1.2, temperature=0.8, equilibration_time=5.0, melt_time=1.0)


@pytest.fixture(scope="module")
def sheared(system):
    eng = LammpsEngine(system, n_threads=1)
    try:
        conf = eng.equilibrate(seed=3)
        eng.load(conf)
        eng.thermalize(5)
        traj = eng.run([Segment(3.0, 0.1)], sample_every=20, record_atom_stress=True)
        plain = eng.run([Segment(0.5, 0.1)], sample_every=20)
    finally:
        eng.close()
    return conf, traj, plain


def test_particle_volumes_eq3():
    sp = np.array([0] * 80 + [1] * 20)
    om = particle_volumes(sp, 100.0 / 1.2, 1.0 / 0.88)
    assert om.sum() == pytest.approx(100.0 / 1.2, rel=1e-12)
    assert om[0] / om[-1] == pytest.approx((1.0 / 0.88) ** 3, rel=1e-12)
    with pytest.raises(ValueError, match="species"):
        particle_volumes(np.array([0, 2]), 1.0, 1.0)


def test_sum_of_atomic_stresses_is_engine_pxy(sheared):
    conf, traj, plain = sheared
    assert traj.atom_stress_xy.shape == (traj.n_frames, conf.n_atoms)
    total = (traj.atom_stress_xy * traj.particle_volume).sum(axis=1) / conf.volume
    np.testing.assert_allclose(total, -traj.stress_xy, rtol=0, atol=1e-8)
    # Eq. 4 over the whole box is the same thing
    whole = region_stress(traj.atom_stress_xy, traj.particle_volume, np.ones(conf.n_atoms, bool))
    np.testing.assert_allclose(whole, -traj.stress_xy, atol=1e-8)
    # a sheared liquid resists: the mean stress is positive (η > 0)
    assert total[1:].mean() > 0
    assert plain.atom_stress_xy is None and plain.particle_volume is None


def test_first_frame_matches_brute_force_eq2(sheared, system):
    _, traj, _ = sheared
    c = traj.initial
    pl = neighbor_list(c.positions, c.cell, system.max_cutoff, full=True)
    si, sj = c.species[pl.i], c.species[pl.j]
    key = np.where(si + sj == 0, "bb", np.where(si + sj == 1, "bs", "ss"))
    eps = np.array([system.epsilon[k] for k in key])
    sig = np.array([system.sigma[k] for k in key])
    r = pl.distances
    ok = r < np.array([system.pair_cutoff(k) for k in key])
    dvdr = 4 * eps * (-12 * sig**12 / r**13 + 6 * sig**6 / r**7)  # V'(r); the shift drops out
    contrib = np.where(ok, dvdr * pl.vectors[:, 0] * pl.vectors[:, 1] / r, 0.0)
    s = 0.5 * np.bincount(pl.i, weights=contrib, minlength=c.n_atoms)  # Eq. 2, ½ per pair
    np.testing.assert_allclose(traj.atom_stress_xy[0], s / traj.particle_volume, rtol=1e-7, atol=1e-8)
