"""Equations of motion under shear, against references that owe nothing to either engine.

Textbook SLLOD (Evans & Morriss 1990, *Statistical Mechanics of Nonequilibrium
Liquids*, Ch. 6): ``ṙ = p/m + γ̇ y x̂``, ``ṗ_x = F_x − γ̇ p_y`` (+ thermostat on p).

* In the lab frame this is Newton's equation, so a free particle moves in a
  straight line (the legacy ``fix nvt/sllod`` scheme, ``ċ_x = −2γ̇ c_y``, bends
  it by ``−γ̇ c_y t²/2``: 0.625 σ in the test below).
* With the thermostat off, ``dH₀/dt = −γ̇ V P_xy`` with ``H₀ = Σ p²/2m + U``
  and the full (kinetic + virial) P_xy.  A velocity field planted with
  ``c_x = c_y`` makes the kinetic shear stress large, so a scheme with the SLLOD
  term applied twice misses the balance by ≈ 1 ε here instead of the
  integrator error (≈ 0.04 ε).
"""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md.configuration import Configuration
from taulc.md.engine import Segment
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.system import load_system

RATE = 0.1
NO_THERMOSTAT = 1e6  # tdamp: Q ∝ tdamp², so the chain variable stays ~1e-12


def _engine(kind: str, system, **kw):
    if kind == "lammps":
        return LammpsEngine(system, n_threads=1, **kw)
    pytest.importorskip("openmm")
    pytest.importorskip("torch")
    from taulc.md.openmm_engine import OpenMMEngine

    return OpenMMEngine(system, platform="Reference", **kw)


def _per_step(eng, conf: Configuration, rate: float, n: int) -> list:
    """Frames after every one of ``n`` steps (engine primitives, as ``MDEngine.run`` drives them)."""
    eng.load(conf)
    eng.set_rate(rate)
    frames = [eng._frame(first=True)]
    start = eng._timestep()
    for _ in range(n):
        eng._advance(1, 1, (start, start + n))
        eng._tick(1)
        frames.append(eng._frame(first=False))
    return frames


@pytest.mark.parametrize("kind", ["lammps", "openmm"])
def test_free_particle_moves_in_a_straight_line(kind):
    """Two particles 10 σ apart (never within the 2.5 σ cut-off), 1000 steps at γ̇ = 0.1,
    thermostat off: lab-frame positions are ``r0 + (c0 + γ̇ y0 x̂) t`` to round-off."""
    system = load_system("demo", n_atoms=2, density=0.001, tdamp=NO_THERMOSTAT)
    length = system.box_length
    pos = np.array([[1.0, 3.0, 1.0], [6.0, 9.0, 7.0]])
    c0 = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.0]])  # peculiar velocities, c_y = 0.5
    conf = Configuration(pos, np.zeros(2, dtype=np.int64), np.diag([length] * 3), c0, {})
    eng = _engine(kind, system)
    frames = _per_step(eng, conf, RATE, 1000)
    t = np.arange(len(frames)) * system.dt
    got = np.stack([f.unwrapped for f in frames])  # (T, 2, 3)
    lab_v = c0 + RATE * pos[:, 1:2] * np.array([1.0, 0.0, 0.0])
    want = pos[None] + t[:, None, None] * lab_v[None]
    np.testing.assert_allclose(got, want, atol=1e-9)
    # peculiar velocity of the moving particle: c_x = -γ̇ c_y t (lab v_x constant)
    np.testing.assert_allclose(frames[-1].velocities[0, 0], -RATE * 0.5 * t[-1], rtol=1e-9)
    eng.close()


@pytest.fixture(scope="module")
def sheared_liquid() -> Configuration:
    """250 KA particles at T = 0.6 in a sheared cell; peculiar velocities with c_x = c_y + noise."""
    system = load_system("demo", n_atoms=250)
    with LammpsEngine(system, n_threads=1) as lmp:
        lmp.create(3)
        lmp.thermalize(4)
        lmp.run([Segment(1.0, 0.0, record=False), Segment(1.0, 0.5, record=False)])
        conf = lmp.snapshot()
    rng = np.random.default_rng(0)
    v = rng.normal(0.0, np.sqrt(system.temperature), conf.positions.shape)
    v -= v.mean(axis=0)
    v[:, 0] += v[:, 1]  # planted kinetic shear stress Σ m c_x c_y ≈ N T
    conf.velocities = v
    return conf


@pytest.mark.parametrize("kind", ["lammps", "openmm"])
def test_energy_balance_under_shear(kind, sheared_liquid):
    """``H₀(t) − H₀(t₁) = −γ̇ V ∫ P_xy dt`` over 300 steps of dt = 0.0025 at γ̇ = 0.1,
    thermostat off.

    t₁ = one step: forces of step n see the tilt of step n − 1 (both engines), so the
    first step's boundary work reaches U one step late (an O(dt) offset, 0.2 ε).  After
    it the residual is the velocity-Verlet energy error, O(dt²) (×4 smaller at dt = 0.0025
    than at 0.005).  Measured (LAMMPS; OpenMM alike): work 31.8 ε of which −0.70 ε kinetic,
    residual ≤ 0.039 ε; the legacy ``fix nvt/sllod`` scheme misses by 1.0 ε.
    """
    system = load_system("demo", n_atoms=250, tdamp=NO_THERMOSTAT, dt=0.0025)
    eng = _engine(kind, system, stress_every=1)
    frames = _per_step(eng, sheared_liquid, RATE, 300)
    eng.close()
    n, dt = system.n_atoms, system.dt
    vol = abs(np.linalg.det(frames[0].cell))
    vel = np.stack([f.velocities for f in frames])  # peculiar, m = 1
    h0 = 0.5 * np.einsum("tnk,tnk->t", vel, vel) + n * np.array([f.potential_energy for f in frames])
    p_kin = np.einsum("tn,tn->t", vel[..., 0], vel[..., 1]) / vol
    p_xy = p_kin + np.array([f.stress_xy for f in frames])  # full P_xy (virial + kinetic)

    def work(p: np.ndarray) -> np.ndarray:
        return -RATE * vol * np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * dt)])

    w, w_kin = work(p_xy), work(p_kin)
    resid = (h0 - h0[1]) - (w - w[1])
    assert w[-1] > 15.0  # viscous heating dominates
    assert abs(w_kin[-1]) > 0.5  # the planted kinetic stress does measurable work
    assert np.abs(resid[1:]).max() < 0.1 * abs(w_kin[-1]), (np.abs(resid[1:]).max(), w[-1], w_kin[-1])
