"""ICE labels from real LAMMPS runs of tiny Kob-Andersen systems (engine: taulc.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

md = pytest.importorskip("taulc.md")

from taulc.dynamics import LabelSettings, equilibrium_reference, label_configuration  # noqa: E402


def _engine(n: int, temperature: float):
    base = md.load_system("demo")
    sysm = dataclasses.replace(base, n_atoms=n, temperature=temperature, name=f"ka{n}_T{temperature}")
    return md.make_engine(sysm, n_threads=1)


def test_engine_adapter_smoke():
    """Tiny and short: the driver talks to the real engine and returns finite labels."""
    eng = _engine(256, 1.0)
    conf = eng.equilibrate(seed=1, duration=5.0)
    st = LabelSettings(n_replicas=2, t_max=4.0, sample_interval=0.05, lc2=0.08, tau_2=0.5, tau_alpha=1.3, reliability_splits=2)
    lab = label_configuration(eng, conf, 0.1, st, seed=2)
    assert lab.first_jump_lc.shape == (2, 256)
    assert np.all(np.isfinite(lab.tau_lc)) and np.all(np.isfinite(lab.tau_sh))
    assert np.all((lab.tau_lc > 0) & (lab.tau_lc <= 4.0 + 1e-9))
    assert lab.seeds_lc.tolist() == lab.seeds_sh.tolist() and len(set(lab.seeds_lc.tolist())) == 2
    assert lab.mobility.shape == (2, 256) and np.all(np.isfinite(lab.mobility))


@pytest.mark.slow
def test_tiny_real_run_physics():
    """N = 400, T = 0.8 (planning: τ_α ≈ 2.7): reference times of the right magnitude,
    finite τ_LC/τ_sh for most particles, shear accelerates (τ_sh < τ_LC on average)."""
    eng = _engine(400, 0.8)
    conf = eng.equilibrate(seed=1, duration=40.0)
    st = LabelSettings(n_replicas=4, t_max=20.0, sample_interval=0.05, reliability_splits=4)
    ref = equilibrium_reference(eng, conf, st, t_run=40.0, seed=2)
    assert 1.5 < ref.tau_alpha < 5.0
    assert 0.5 < ref.tau_2 < 10.0 and 0.1 < ref.alpha2_max < 1.0
    assert 0.02 < ref.lc2 < 0.15
    assert ref.q == 7.25
    lab = label_configuration(eng, conf, 0.1, st, reference=ref.to_dict(), seed=3)
    assert np.mean(lab.all_censored_lc) < 0.2 and np.mean(lab.all_censored_sh) < 0.05
    assert np.mean(lab.tau_sh) < np.mean(lab.tau_lc)
    assert 0.0 < lab.p_slow < 1.0
    assert lab.lc2 == ref.lc2 and lab.tau_2 == ref.tau_2
