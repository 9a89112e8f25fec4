"""OpenMM batched replica engine against LAMMPS (CPU, float64 Reference platform)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("openmm")
torch = pytest.importorskip("torch")

from taulc.md.configuration import Configuration  # noqa: E402
from taulc.md.engine import Segment, replica_seeds  # noqa: E402
from taulc.md.lammps_engine import LammpsEngine  # noqa: E402
from taulc.md.openmm_engine import OpenMMEngine, _Unwrapper, reduce_tilt  # noqa: E402
from taulc.md.system import SystemSpec, load_system  # noqa: E402
from taulc.paths import REPO_ROOT  # noqa: E402

N_SMALL = 250


def demo_configuration(shard: str = "r1.000e-01_c000") -> Configuration:
    z = np.load(REPO_ROOT / "datasets" / "demo" / "shards" / f"{shard}.npz")
    return Configuration(z["positions"].astype(np.float64), z["species"].astype(np.int64), z["cell"].astype(np.float64), None, {})


@pytest.fixture(scope="module")
def small():
    """A 250-particle KA liquid at T = 0.6 in a tilted cell (LAMMPS: create, NVT, shear)."""
    system = load_system("demo", n_atoms=N_SMALL)
    lmp = LammpsEngine(system, n_threads=1)
    lmp.create(3)
    lmp.thermalize(4)
    lmp.run([Segment(1.0, 0.0, record=False), Segment(1.0, 0.5, record=False)])
    conf = lmp.snapshot()
    assert abs(conf.cell[1, 0]) > 0.1  # tilted
    yield system, lmp, conf
    lmp.close()


def _lammps_energy_forces(lmp: LammpsEngine, conf: Configuration) -> tuple[float, np.ndarray]:
    lmp.load(conf)
    fr = lmp._frame(first=True)
    return fr.potential_energy, lmp._gather("f", 1, 3)


@pytest.mark.parametrize("mode", ["global", "per_pair"])
def test_energy_forces_equal_lammps_on_demo_configuration(mode):
    """Demo configuration sheared at γ̇ = 0.1 (tilted cell): E/N and forces to 1e-6 relative."""
    conf = demo_configuration()
    assert abs(conf.cell[1, 0]) > 1e-3
    system = load_system("demo", cutoff_mode=mode)
    with LammpsEngine(system, n_threads=1) as lmp:
        pe_l, f_l = _lammps_energy_forces(lmp, conf)
        vir_l = lmp._frame(first=True).stress_xy
    om = OpenMMEngine(system, platform="Reference")
    pe_o, f_o = om.energy_forces(conf)
    assert abs(pe_o - pe_l) <= 1e-6 * abs(pe_l)
    assert np.abs(f_o - f_l).max() <= 1e-6 * np.abs(f_l).max()
    pe_h, vir_h = om._pair_terms(conf.positions)  # host-side frame values (no force recompute)
    assert pe_h == pytest.approx(pe_l, rel=1e-6)
    assert vir_h == pytest.approx(vir_l, rel=1e-6)


def test_tilt_reduction_is_lammps_flip():
    assert reduce_tilt(0.3, 6.0) == 0.3
    assert reduce_tilt(3.2, 6.0) == pytest.approx(-2.8)
    assert reduce_tilt(-9.5, 6.0) == pytest.approx(2.5)
    assert reduce_tilt(3.0, 6.0) == 3.0  # |xy| = Lx/2 is a valid (reduced) OpenMM box


@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_trajectory_equals_lammps_step_by_step(small, rate):
    """Same configuration and velocities, 1000 steps: LAMMPS ``fix nvt`` (+ ``temp/deform``
    under shear, textbook SLLOD) and the OpenMM integrator give the same trajectory,
    Lees-Edwards crossings and flips included.  Round-off (1e-15) grows only by the
    Lyapunov instability of the liquid (×10 per ~100 steps measured), so the tolerance
    widens with time; a wrong SLLOD term breaks it at the first sampled frame.  LAMMPS's
    unwrapped x differs from the integrated trajectory by whole tilt increments γ̇ L_y dt
    (3e-3 here), one per net y crossing (it unwraps with the box read at the frame, one
    increment ahead of the tilt the atom was wrapped with): those are removed first."""
    system, lmp, conf = small
    om = OpenMMEngine(system, platform="Reference")
    trajs = []
    for eng in (lmp, om):
        eng.load(conf)
        eng.thermalize(11)
        trajs.append(eng.run([Segment(5.0, rate)], sample_every=100))
    a, b = trajs
    assert a.times.size == 11  # 1000 steps
    ua = a.unwrapped.copy()
    if rate:
        inc = rate * conf.cell[1, 1] * system.dt
        k = np.round((b.unwrapped[..., 0] - ua[..., 0]) / inc)
        assert np.abs(k).max() <= 3  # a few crossings, nothing else
        ua[..., 0] += k * inc
    diff = np.abs(b.unwrapped - ua).max(axis=(1, 2))
    assert np.all(diff[:6] <= 1e-9), diff  # first 500 steps
    assert np.all(diff <= 1e-5), diff  # 1000 steps
    if rate == 0:
        np.testing.assert_allclose(b.nonaffine[:6], a.nonaffine[:6], atol=1e-9)
    if rate:  # particles crossed the y boundary (LAMMPS wrapped them) during the run
        ly = conf.cell[1, 1]
        crossed = np.abs(np.floor(a.unwrapped[-1, :, 1] / ly) - np.floor(a.unwrapped[0, :, 1] / ly))
        assert crossed.sum() >= 5
    # LAMMPS reuses T·f² for the kinetic energy after a thermostat scaling (fresh sum here)
    np.testing.assert_allclose(b.temperature[:6], a.temperature[:6], rtol=1e-7)
    np.testing.assert_allclose(b.tilt, a.tilt, atol=1e-12)
    # window-averaged virial p_xy (every 5th step) on the same steps with the same tilt
    np.testing.assert_allclose(b.stress_xy[:6], a.stress_xy[:6], rtol=1e-7)


def test_batched_replicas_equal_single_runs(small):
    """Replicas as interaction groups of one System, each with its own Nosé-Hoover chain,
    are independent: a batch of 3 equals 3 one-replica runs with the same seeds."""
    system, _, conf = small
    om = OpenMMEngine(system, platform="Reference")
    seeds = replica_seeds(7, 3)
    batch = om.ice_batch(conf, seeds, 0.1, 0.1, sample_every=10)
    assert batch.nonaffine.shape == (3, 3, N_SMALL, 3)
    single = OpenMMEngine(system, platform="Reference")
    for i, s in enumerate(seeds):
        one = single.ice_batch(conf, [s], 0.1, 0.1, sample_every=10)
        np.testing.assert_allclose(batch.nonaffine[i].numpy(), one.nonaffine[0].numpy(), atol=1e-10)
        np.testing.assert_allclose(batch.temperature[i], one.temperature[0], rtol=1e-10)
    # fresh Maxwell-Boltzmann velocities at exactly T (3N - 3 dof) in every replica
    np.testing.assert_allclose(batch.temperature[:, 0], system.temperature, rtol=1e-12)


def test_ice_trajectories_and_seeds(small):
    system, _, conf = small
    om = OpenMMEngine(system, platform="Reference", batch_replicas=2)
    trajs = list(om.ice(conf, 3, rate_after=0.0, duration=0.05, seed=5, sample_every=5))
    assert [t.meta["seed"] for t in trajs] == replica_seeds(5, 3)
    assert [t.meta["replica"] for t in trajs] == [0, 1, 2]
    for t in trajs:
        assert t.nonaffine.shape == (3, N_SMALL, 3)
        np.testing.assert_allclose(t.nonaffine[0], 0.0)
        np.testing.assert_allclose(t.initial.positions, conf.positions)


def test_unwrapper_removes_lees_edwards_wraps():
    """Positions wrapped by lattice vectors of the continuously sheared cell are unwrapped."""
    rng = np.random.default_rng(0)
    cell0 = np.diag([6.0, 6.0, 6.0])
    true = rng.uniform(0, 6, (20, 3))
    unw = _Unwrapper(torch.as_tensor(true), cell0, torch)
    for step in range(1, 30):
        cell = cell0.copy()
        cell[1, 0] = 0.4 * step  # continuous tilt
        true = true + rng.normal(0, 0.05, true.shape)
        shift = rng.integers(-2, 3, (20, 3))
        seen = true + shift @ cell
        got = unw.update(torch.as_tensor(seen), cell).numpy()
        np.testing.assert_allclose(got, true, atol=1e-10)


def test_device_labels_equal_host_labels(small):
    """labels.run_ice with the batched engine (torch detection on the device) gives the same
    first jumps and r2 as the replica-by-replica NumPy path on the same trajectories."""
    from taulc.dynamics.labels import LabelSettings, run_ice

    system, _, conf = small
    st = LabelSettings(n_replicas=3, t_max=0.25, sample_interval=0.05, lc2=0.01)
    om = OpenMMEngine(system, platform="Reference", batch_replicas=2, sample_every=10)
    dev = run_ice(om, conf, 0.1, st, seed=3, lc2=0.01)

    def per_replica(conf, **kw):  # same engine, through the generic Trajectory path
        yield from om.ice(conf, kw["n_replicas"], kw["rate_after"], kw["t_max"], kw["seed"], 10)

    host = run_ice(per_replica, conf, 0.1, st, seed=3, lc2=0.01)
    assert dev.seeds == host.seeds == replica_seeds(3, 3)
    np.testing.assert_array_equal(np.isnan(dev.first_jump), np.isnan(host.first_jump))
    np.testing.assert_array_equal(np.nan_to_num(dev.first_jump), np.nan_to_num(host.first_jump))
    assert np.isfinite(dev.first_jump).mean() > 0.05  # some jumps at this low threshold
    np.testing.assert_allclose(dev.r2, host.r2, rtol=1e-6, atol=1e-9)


def test_make_engine_and_config_hash():
    from omegaconf import OmegaConf

    from taulc.data import stages
    from taulc.data.builder import dataset_config
    from taulc.data.manifest import canonical_hash
    from taulc.data.specs import BuildConfig
    from taulc.errors import ConfigError
    from taulc.testing.data import compose

    cfg = OmegaConf.to_container(
        compose("build", ["system.n_atoms=300", "labels.engine=openmm", "labels.device=cpu"]), resolve=True
    )
    spec = BuildConfig.from_config(cfg)
    eng = stages.make_engine(spec.system, spec.engine, stages.steps(0.05, spec.system.dt), labels=spec.labels)
    assert isinstance(eng, OpenMMEngine) and eng.device == "cpu" and eng.sample_every == 10
    with pytest.raises(ConfigError, match="labels.engine"):
        BuildConfig.from_config({**cfg, "labels": {**cfg["labels"], "engine": "gromacs"}})
    base = OmegaConf.to_container(compose("build", ["system.n_atoms=300"]), resolve=True)
    moved = OmegaConf.to_container(
        compose("build", ["system.n_atoms=300", "labels.device=cuda", "labels.batch_replicas=8"]), resolve=True
    )
    assert canonical_hash(dataset_config(base)) == canonical_hash(dataset_config(moved))
    assert canonical_hash(dataset_config(base)) != canonical_hash(dataset_config(cfg))
    assert "engine" not in dataset_config(base)["labels"]  # LAMMPS datasets keep their hash


def test_simulate_engine_node_builds_an_openmm_engine():
    """``taulc.simulate engine.backend=openmm engine.n_threads=1``: the shared engine node's keys
    reach OpenMMEngine (this once raised TypeError on ``n_threads``)."""
    from taulc.md import make_engine
    from taulc.md.engine_spec import EngineSpec

    spec = EngineSpec(backend="openmm", n_threads=1, log_file="ignored.log")
    eng = make_engine(
        SystemSpec(name="t", n_atoms=250, density=1.2, temperature=0.6), spec.backend, device="cpu", **spec.engine_kwargs()
    )
    assert isinstance(eng, OpenMMEngine) and eng.n_threads == 1


# ----------------------------------------------------------------------------- slow physics
@pytest.mark.slow
@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_temperature_held_and_streaming_profile(small, rate):
    """NVT and SLLOD hold T = 0.6; under shear particles flow with u_x = γ̇ y (slope within 10 %)."""
    system, _, conf = small
    om = OpenMMEngine(system, platform="CPU", n_threads=1)
    batch = om.ice_batch(conf, replica_seeds(1, 2), rate, 8.0, sample_every=40, keep_unwrapped=True)
    late = batch.temperature[:, batch.times > 2.0]
    assert late.mean() == pytest.approx(system.temperature, rel=0.03)
    if rate:
        u = batch.unwrapped.numpy()  # (B, F, N, 3)
        f = batch.times.size - 1
        dx = u[:, f, :, 0] - u[:, 0, :, 0]
        ybar = 0.5 * (u[:, f, :, 1] + u[:, 0, :, 1])  # time-averaged y ~ midpoint
        slope = np.polyfit(ybar.ravel(), dx.ravel() / batch.times[f], 1)[0]
        assert slope == pytest.approx(rate, rel=0.10)


@pytest.mark.slow
def test_first_jump_distribution_matches_lammps(small):
    """Same configuration, 6 replicas each: pooled first-jump times indistinguishable (KS)."""
    from scipy.stats import ks_2samp

    from taulc.dynamics.labels import LabelSettings, run_ice

    system, lmp, conf = small
    st = LabelSettings(n_replicas=6, t_max=4.0, sample_interval=0.05)
    om = OpenMMEngine(system, platform="CPU", n_threads=1, sample_every=10)
    lmp.sample_every = 10
    a = run_ice(lmp, conf, 0.0, st, seed=21, lc2=0.057).first_jump
    b = run_ice(om, conf, 0.0, st, seed=21, lc2=0.057).first_jump
    big = conf.species == 0
    ta, tb = a[:, big].ravel(), b[:, big].ravel()
    assert abs(np.isnan(ta).mean() - np.isnan(tb).mean()) < 0.05
    assert ks_2samp(ta[np.isfinite(ta)], tb[np.isfinite(tb)]).pvalue > 0.01


@pytest.mark.slow
def test_viscosity_at_rate_0p1_matches_lammps(small):
    """η = -<p_xy>/γ̇ (Eq. 1) at γ̇ = 0.1 from the same sheared state: within 3 combined errors."""
    system, lmp, conf = small

    def eta(eng, seed):
        eng.load(conf)
        eng.thermalize(seed)
        tr = eng.run([Segment(2.0, 0.1, record=False), Segment(12.0, 0.1)], sample_every=100)
        p = -tr.stress_xy[1:] / 0.1
        blocks = p[: p.size // 4 * 4].reshape(4, -1).mean(axis=1)
        return blocks.mean(), blocks.std(ddof=1) / 2.0

    om = OpenMMEngine(system, platform="CPU", n_threads=1)
    (el, sl), (eo, so) = eta(lmp, 31), eta(om, 31)
    assert el > 0 and eo > 0
    assert abs(el - eo) <= 3.0 * np.hypot(sl, so)


@pytest.mark.slow
def test_build_label_stage_with_openmm(tmp_path):
    """``python -m taulc.build ... labels.engine=openmm labels.device=cpu``: LAMMPS simulates,
    OpenMM labels; a second run finds everything cached."""
    import time

    from taulc.build import run
    from taulc.testing.data import tiny_build_cfg

    extra = [
        "labels.engine=openmm",
        "labels.device=cpu",
        "dataset.rates=[0.1]",
        "dataset.n_configs=1",
        "labels.t_max=1.0",
        "build.stages=[simulate,label]",
    ]
    cfg = tiny_build_cfg(tmp_path, extra)
    run(cfg)
    shards = list((tmp_path / "tiny").rglob("*.npz"))
    lab = [np.load(p) for p in shards if "first_jump_lc" in np.load(p).files]
    assert lab and lab[0]["first_jump_lc"].shape == (2, 300) and lab[0]["first_jump_sh"].shape == (2, 300)
    t0 = time.perf_counter()
    run(cfg)  # resumable: cached labels are not recomputed
    assert time.perf_counter() - t0 < 30
