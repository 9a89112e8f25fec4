"""Inherent-state cache, the ``kappa`` descriptor family and the oscillatory-shear engine run."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import LammpsEngine, ProtocolError, load_protocol
from taulc.physics.elasticity import dipole_stiffness
from taulc.physics.hessian import PairTable
from taulc.physics.inherent import inherent_state, minimize_settings
from taulc.structure import featurize
from tests.helpers.physics import tiny_system


@pytest.fixture(scope="module")
def liquid():
    system = tiny_system()
    with LammpsEngine(system, n_threads=1) as eng:
        eng.create(7)
        eng.thermalize(8, 0.6)
        conf = eng.snapshot()
    return system, conf


class _NoEngine:
    def minimize(self, *a, **k):  # pragma: no cover - must not be called
        raise AssertionError("cached inherent state was recomputed")


def test_inherent_state_is_cached(liquid, tmp_path):
    system, conf = liquid
    a = inherent_state(conf, system, {"ftol": 1e-10}, cache_dir=tmp_path)
    assert a.meta["minimize"]["fnorm"] < 1e-9 and np.allclose(a.cell, conf.cell)
    b = inherent_state(conf, system, {"ftol": 1e-10}, cache_dir=tmp_path, engine=_NoEngine())
    assert np.array_equal(a.positions, b.positions) and b.meta["minimize"] == a.meta["minimize"]
    with pytest.raises(ValueError, match="ftoll"):
        minimize_settings({"ftoll": 1e-3})


def test_kappa_family_in_featurize(liquid, tmp_path):
    system, conf = liquid
    cfg = {
        "families": {"kappa": {"minimize": {"ftol": 1e-10}, "cache_dir": str(tmp_path), "generations": 1, "rc": 3.0}},
        "dtype": "float64",
    }
    x, names = featurize(conf.positions, conf.species, conf.cell, cfg)
    assert x.shape == (conf.n_atoms, 2) and [str(n) for n in names] == ["kappa gen=0", "kappa gen=1"]
    inh = inherent_state(conf, system, {"ftol": 1e-10}, cache_dir=tmp_path, engine=_NoEngine())
    ref = dipole_stiffness(inh.positions, inh.species, inh.cell, PairTable.from_system(system))
    assert np.allclose(x[:, 0], ref.kappa_local, rtol=1e-10)
    assert x[:, 1].std() < x[:, 0].std()  # coarse-graining smooths
    with pytest.raises(ValueError, match="unknown options"):
        featurize(conf.positions, conf.species, conf.cell, {"families": {"kappa": {"bogus": 1}}})


def test_oscillatory_shear_follows_the_imposed_strain(liquid):
    system, conf = liquid
    gamma0, period = 0.02, 1.0
    with LammpsEngine(system, n_threads=1) as eng:
        run = eng.oscillate(conf, gamma0, period, 2, seed=1, sample_every=10, snapshot_every_cycle=True)
    t_end = np.arange(1, len(run["strain"]) + 1) * 10 * system.dt
    assert np.abs(run["strain"] - gamma0 * np.sin(2 * np.pi * t_end / period)).max() < 1e-12
    assert len(run["configurations"]) == 2
    for c in run["configurations"]:
        assert np.allclose(c.cell, conf.cell, atol=1e-12)
    assert np.corrcoef(run["stress"], gamma0 * np.sin(2 * np.pi * run["times"] / period))[0, 1] > 0.5
    spec = load_protocol("oscillatory")
    assert spec.gamma0 > 0 and spec.rate_after == 0.0
    with pytest.raises(ProtocolError, match="gamma0"):
        load_protocol("oscillatory", gamma0=0.0)
