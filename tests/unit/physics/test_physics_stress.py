"""Atomic stresses (Zeng, Yu & Wang 2025, Eq. 2-4) against the LAMMPS engine's virial p_xy."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import LammpsEngine, Segment, SystemSpec
from taulc.physics.stress import (
    atomic_shear_stress_frames,
    atomic_stress,
    cluster_stress,
    particle_volumes,
    species_volumes,
)


@pytest.fixture(scope="module")
def system() -> SystemSpec:
    return SystemSpec(name="tiny", n_atoms=400, density=1.2, temperature=0.8, equilibration_time=2.0, melt_time=1.0)


@pytest.fixture(scope="module")
def sheared(system):
    """A tiny sheared state with a tilted cell, recorded for a few frames."""
    with LammpsEngine(system, n_threads=1) as eng:
        eng.create(seed=5)
        eng.thermalize(6)
        eng.run([Segment(1.0, 0.0, record=False), Segment(1.3, 0.3, record=False)])
        traj = eng.run([Segment(0.5, 0.3)], sample_every=20)
        yield eng, traj


def test_eq3_volumes_fill_the_box(system):
    species = np.r_[np.zeros(320, int), np.ones(80, int)]
    ob, os_ = species_volumes(system, species, 1000.0)
    assert ob / os_ == pytest.approx((1.0 / 0.88) ** 3)
    assert particle_volumes(system, species, 1000.0).sum() == pytest.approx(1000.0)


def test_atomic_stresses_sum_to_engine_virial_pxy(sheared, system):
    _, traj = sheared
    conf = traj.initial
    assert abs(conf.cell[1, 0]) > 0.5  # a genuinely tilted cell
    sigma, omega = atomic_stress(conf.positions, conf.species, conf.cell, system)
    vol = abs(np.linalg.det(conf.cell))
    p_xy = traj.stress_xy[0]  # instantaneous virial p_xy of frame 0 (compute pressure NULL virial)
    total = float(np.sum(sigma * omega))
    assert total == pytest.approx(-vol * p_xy, rel=1e-8)
    # Eq. 4 over the whole box is the global shear stress -p_xy
    assert cluster_stress(sigma, omega, np.ones_like(sigma, bool), vol) == pytest.approx(-p_xy, rel=1e-8)
    # steady shear at γ̇ > 0 loads a positive mean shear stress
    assert -traj.stress_xy[1:].mean() > 0


def test_per_frame_stresses_from_unwrapped_positions(sheared, system):
    """Unwrapped positions + per-frame tilt give the same σ_i as the wrapped frame-0 configuration."""
    _, traj = sheared
    s_frames = atomic_shear_stress_frames(traj.unwrapped, traj.tilt, traj.final.cell, traj.final.species, system, frames=[0])
    s0, _ = atomic_stress(traj.initial.positions, traj.initial.species, traj.initial.cell, system)
    np.testing.assert_allclose(s_frames[0], s0, rtol=1e-9, atol=1e-9)


def test_sign_is_the_energy_derivative_of_an_affine_shear(sheared, system):
    """Σ_i Ω_i σ_i,xy = ∂U/∂γ (the printed-formula sign; no engine involved): U from a
    brute-force numpy pair sum, differentiated by central differences of an affine shear
    r → (1 + γ e_x e_y) r applied to positions and cell."""
    from taulc.md.openmm_engine import pair_tables
    from taulc.structure.neighbors import minimum_image

    _, traj = sheared
    conf = traj.initial
    t = {k: np.asarray(v).reshape(2, 2) for k, v in pair_tables(system).items()}
    sp = conf.species

    def energy(gamma: float) -> float:
        f = np.eye(3)
        f[0, 1] = gamma  # x += γ y (row vectors: r @ f.T)
        pos, cell = conf.positions @ f.T, conf.cell @ f.T
        i, j = np.triu_indices(len(pos), 1)
        d = minimum_image(pos[j] - pos[i], cell)
        r2 = np.einsum("pk,pk->p", d, d)
        a, b = sp[i], sp[j]
        ok = r2 < t["rc"][a, b] ** 2
        s6 = (t["sig"][a, b][ok] ** 2 / r2[ok]) ** 3
        return float(np.sum(4 * t["eps"][a, b][ok] * (s6 * s6 - s6) - t["shift"][a, b][ok]))

    h = 1e-5
    du = (energy(h) - energy(-h)) / (2 * h)
    sigma, omega = atomic_stress(conf.positions, conf.species, conf.cell, system)
    assert float(np.sum(sigma * omega)) == pytest.approx(du, rel=1e-4)  # measured 1.5e-5 (h = 1e-5)
    assert du != pytest.approx(-du, rel=0.1)  # a sign error would not pass


def test_kinetic_part_matches_full_pressure_tensor(system):
    """With peculiar velocities (γ̇ = 0) the kinetic term -m v_x v_y / Ω_i makes the sum -V P_xy (full)."""
    with LammpsEngine(system, n_threads=1) as eng:
        eng.create(seed=9)
        eng.thermalize(10)
        eng.run([Segment(0.5, 0.0, record=False)])
        snap = eng.snapshot()
        eng.commands(["compute ptot all pressure thermo_temp", "run 0 post no"])
        p_full = float(eng.lmp.numpy.extract_compute("ptot", 0, 1)[3])
    sigma, omega = atomic_stress(snap.positions, snap.species, snap.cell, system, velocities=snap.velocities)
    vol = abs(np.linalg.det(snap.cell))
    assert float(np.sum(sigma * omega)) == pytest.approx(-vol * p_full, rel=1e-8)


def test_full_tensor_trace_and_bad_input(sheared, system):
    _, traj = sheared
    c = traj.initial
    sig, _omega = atomic_stress(c.positions, c.species, c.cell, system, component=None)
    assert sig.shape == (c.n_atoms, 6)
    with pytest.raises(ValueError, match="component"):
        atomic_stress(c.positions, c.species, c.cell, system, component="xq")
    with pytest.raises(ValueError, match="velocities"):
        atomic_stress(c.positions, c.species, c.cell, system, velocities=np.zeros((3, 3)))
