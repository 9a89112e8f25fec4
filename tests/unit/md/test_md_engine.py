"""Physics acceptance tests of the LAMMPS engine on tiny systems (N = 400).

SLLOD temperature, linear streaming profile, vanishing mean non-affine drift
through box flips, shear switched off mid-run, ICE replicas, bit-identical
restart from a file, viscosity and shear thinning.
"""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import (
    Configuration,
    ConfigurationError,
    LammpsEngine,
    Segment,
    SystemSpec,
    SystemSpecError,
    read_configuration,
    write_configuration,
)

T = 0.8


@pytest.fixture(scope="module")
def system() -> SystemSpec:
    return SystemSpec(name="tiny", n_atoms=400, density=1.2, temperature=T, equilibration_time=15.0, melt_time=2.0)


@pytest.fixture(scope="module")
def engine(system):
    eng = LammpsEngine(system, n_threads=1)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def equilibrium(engine) -> Configuration:
    return engine.equilibrate(seed=11)


def test_equilibrium_configuration(equilibrium, system):
    c = equilibrium
    assert c.n_atoms == 400 and int((c.species == 1).sum()) == 80
    assert abs(c.density - 1.2) < 1e-9 and c.velocities is not None
    frac = np.linalg.solve(c.cell.T, c.positions.T).T
    assert (frac >= 0).all() and (frac < 1).all()
    assert c.meta["seeds"]["init"] == 11 and c.meta["system"] == "tiny"


def test_sllod_temperature_profile_and_nonaffine_drift(engine, equilibrium):
    rate = 0.1
    engine.load(equilibrium)
    traj = engine.run([Segment(30.0, rate)], sample_every=20)  # strain 3: several box flips
    # kinetic temperature of the peculiar velocities stays at T
    temps = traj.temperature[10:]
    assert abs(temps.mean() - T) < 0.02
    assert temps.std() < 0.1
    # tilt went through flips, strain bookkeeping is exact
    assert traj.strain[-1] == pytest.approx(3.0)
    assert (np.diff(traj.tilt) < -1.0).sum() >= 2
    # the mean non-affine displacement of the system stays << sigma
    drift = traj.nonaffine.mean(axis=1)
    assert np.abs(drift).max() < 0.05
    # unwrapped positions are continuous (no jumps by a box length at flips)
    step = np.linalg.norm(np.diff(traj.unwrapped, axis=0), axis=2)
    assert step.max() < 1.0
    # streaming profile: <v_x>(y) linear with slope rate (LAMMPS u_x = rate*(y - ylo))
    ys, vs = [], []
    for _ in range(10):
        engine.run([Segment(1.0, rate)], record_positions=False)
        x = engine._gather("x", 1, 3)
        v = engine._gather("v", 1, 3)
        ys.append(x[:, 1])
        vs.append(v[:, 0])
    y, vx = np.concatenate(ys), np.concatenate(vs)
    slope, intercept = np.polyfit(y, vx, 1)
    assert abs(slope / rate - 1) < 0.1
    assert abs(intercept) < 0.1 * rate * equilibrium.cell[1, 1]
    # the final configuration carries the peculiar velocities (no profile)
    c = engine.snapshot()
    x, v = engine._gather("x", 1, 3), engine._gather("v", 1, 3)
    np.testing.assert_allclose(c.velocities[:, 0], v[:, 0] - rate * x[:, 1], atol=1e-12)


def test_switch_off_and_change_rate(engine, equilibrium):
    engine.load(equilibrium)
    sched = [Segment(2.0, 0.1, record=False), Segment(3.0, 0.1), Segment(3.0, 0.0), Segment(2.0, 0.05)]
    traj = engine.run(sched, sample_every=20)
    assert traj.times[0] == 0.0 and traj.times[-1] == pytest.approx(8.0)
    assert set(np.unique(traj.rate)) == {0.0, 0.05, 0.1}
    assert traj.strain[-1] == pytest.approx(0.3 + 0.1)
    assert abs(traj.temperature[5:].mean() - T) < 0.03
    assert np.abs(traj.nonaffine.mean(axis=1)).max() < 0.05
    off = traj.rate == 0.0
    # after cessation the tilt is frozen
    assert np.ptp(traj.tilt[off]) == 0.0
    # no streaming profile survives the switch-off
    engine.run([Segment(1.0, 0.0)], record_positions=False)
    x, v = engine._gather("x", 1, 3), engine._gather("v", 1, 3)
    assert abs(np.polyfit(x[:, 1], v[:, 0], 1)[0]) < 0.03


def test_ice_replicas(engine, equilibrium):
    c = engine.run([Segment(2.0, 0.1)], record_positions=False).final  # a sheared, tilted state
    gen = engine.ice(c, n_replicas=3, rate_after=0.0, duration=1.0, seed=5)
    assert iter(gen) is gen  # a generator: replicas are produced one at a time
    reps = list(gen)
    seeds = [r.meta["seed"] for r in reps]
    assert len(set(seeds)) == 3 and all(r.meta["ice_seed"] == 5 for r in reps)
    for r in reps:
        assert np.array_equal(r.initial.positions, reps[0].initial.positions)
        np.testing.assert_allclose(r.unwrapped[0], c.positions, atol=1e-9)
        assert np.array_equal(r.final.cell[1, 0], c.cell[1, 0])  # tilt kept, shear off
        assert r.rate.max() == 0.0
    v0, v1 = reps[0].initial.velocities, reps[1].initial.velocities
    assert not np.allclose(v0, v1)
    assert abs(reps[0].temperature[0] - T) < 1e-6  # exact MB rescale at t0
    # replicas diverge
    assert np.abs(reps[0].unwrapped[-1] - reps[1].unwrapped[-1]).max() > 1e-3


def test_restart_from_file_is_bit_identical(engine, equilibrium, tmp_path):
    c = engine.run([Segment(1.0, 0.1)], record_positions=False).final
    p = write_configuration(tmp_path / "c.extxyz", c)
    d = read_configuration(p)
    assert np.array_equal(d.positions, c.positions) and np.array_equal(d.velocities, c.velocities)
    out = []
    for conf in (c, d):
        engine.load(conf)
        out.append(engine.run([Segment(1.0, 0.1)], sample_every=20))
    assert np.array_equal(out[0].unwrapped, out[1].unwrapped)
    assert np.array_equal(out[0].stress_xy, out[1].stress_xy)
    assert out[0].final.meta["strain"] == pytest.approx(c.meta["strain"] + 0.1)


def test_load_rejects_inconsistent_configuration(engine, equilibrium):
    bad = Configuration(equilibrium.positions[:-1], equilibrium.species[:-1], equilibrium.cell)
    with pytest.raises(SystemSpecError, match="n_atoms"):
        engine.load(bad)
    bad = Configuration(equilibrium.positions, equilibrium.species, equilibrium.cell * 1.05)
    with pytest.raises(SystemSpecError, match="density"):
        engine.load(bad)
    sp = equilibrium.species.copy()
    sp[:5] = 1
    with pytest.raises(ConfigurationError, match="species"):
        engine.load(Configuration(equilibrium.positions, sp, equilibrium.cell))
    with pytest.raises(ValueError, match="rate"):
        engine.set_rate(-0.1)


def test_shear_thinning_fast(engine, equilibrium):
    """η = -<p_xy>/γ̇ (Eq. 1) decreases from γ̇ = 0.02 to 0.2 at T = 0.8."""
    eta = {}
    for rate, dur in ((0.02, 60.0), (0.2, 15.0)):
        engine.load(equilibrium)
        engine.run([Segment(0.5 / rate, rate, record=False)])  # discard the start-up transient
        traj = engine.run([Segment(dur, rate)], record_positions=False)
        eta[rate] = traj.viscosity()
    assert eta[0.2] > 0 and eta[0.02] > 1.3 * eta[0.2], eta


@pytest.mark.slow
def test_shear_thinning_demo():
    """Demo state (ρ = 1.2, T = 0.6, N = 1500): η(0.01) clearly above η(0.1)."""
    from taulc.md import load_system

    s = load_system("demo", equilibration_time=100.0)
    with LammpsEngine(s) as eng:
        c = eng.equilibrate(seed=3)
        eta = {}
        for rate, dur in ((0.01, 200.0), (0.1, 40.0)):
            eng.load(c)
            eng.run([Segment(1.0 / rate, rate, record=False)])
            eta[rate] = eng.run([Segment(dur, rate)], record_positions=False).viscosity()
    assert eta[0.01] > 2.0 * eta[0.1], eta


def test_step_affine_integral_agrees_with_trapezoid(system, equilibrium):
    """Exact per-step affine integral (fix ave/atom) vs trapezoid on 0.1-τ frames."""
    out = {}
    for mode in ("trapezoid", "step"):
        with LammpsEngine(system, n_threads=1, affine_integral=mode) as eng:
            eng.load(equilibrium)
            out[mode] = eng.run([Segment(10.0, 0.1)], sample_every=20)
    a, b = out["trapezoid"], out["step"]
    assert np.array_equal(a.unwrapped, b.unwrapped)  # same dynamics
    diff = np.abs(a.nonaffine - b.nonaffine)
    assert diff[..., 1:].max() == 0.0
    assert diff.max() < 0.02  # γ̇ × trapezoid error of vibrations: tiny
    assert np.abs(b.nonaffine.mean(axis=1)).max() < 0.05
