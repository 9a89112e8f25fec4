"""The rheology section's numbers on the shipped demo dataset and its start-up runs (~6 s).

Checks the paper's qualitative statements with the measured inputs: Eq. 5 reproduces the MD
viscosity within its uncertainty at every rate but the one defining η_eq (shear thinning), p_slow
is label noise at 10⁻³, w = G_eff/G_ini ≈ 0.8 (App. B), PEL
p'_slow and SGR p_sd grow with log γ̇ (S shape), and the SGR model is Newtonian at small γ̇.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from taulc.analysis.rheology_analysis import rheology_inputs, run_models
from taulc.data.manifest import read_manifest
from taulc.data.startup_runs import load_startup_runs
from taulc.data.storage import load_npz
from taulc.paths import default_data_root


@pytest.fixture(scope="module")
def demo():
    root = Path(default_data_root()) / "demo"
    runs = load_startup_runs(root)
    if not runs:
        pytest.skip("demo start-up runs not present (python -m taulc.data.startup_runs ...)")
    man = read_manifest(root)
    shards = [load_npz(root / s["file"]) for s in man["shards"]]
    inp = rheology_inputs(root, man, shards, runs, distortion=False)
    return inp, run_models(inp)


def test_duality_viscosity_tracks_md(demo):
    """Eq. 5 against Eq. 1 within 3 combined standard errors (bootstrap of Eq. 5's inputs, η_eq
    propagated; block s.e. of MD), except at the rate whose η *is* η_eq (circular, not compared)."""
    inp, mod = demo
    assert inp.eta_eq_rate == min(mod.duality)
    for r, d in mod.duality.items():
        err = mod.duality_err[r]
        assert err.eta == pytest.approx(d.eta, rel=1e-6) and err.eta_se > 0  # float32 jump times
        if r == inp.eta_eq_rate:
            continue
        eta, sem = inp.eta_md[r]
        assert abs(d.eta - eta) < 3.0 * np.hypot(err.eta_se, sem)
    etas = [mod.duality[r].eta for r in sorted(mod.duality)]
    assert np.all(np.diff(etas) < 0)  # shear thinning


def test_p_slow_is_noise_in_the_newtonian_regime(demo):
    """At 10⁻³ Eq. 2 flags 13 % of the particles, and the mirrored condition τ_LC − τ_sh ≤ −τ_2 as
    many: the excess is consistent with zero; from 10⁻² on it is significant."""
    _, mod = demo
    rates = sorted(mod.slow_noise)
    lo = mod.slow_noise[rates[0]]
    assert rates[0] == pytest.approx(1e-3)
    assert lo.p_slow > 0.1 and abs(lo.z_excess) < 2.0
    assert all(mod.slow_noise[r].z_excess > 5.0 for r in rates[1:])


def test_neighbour_loss_weakening_and_s_shapes(demo):
    inp, mod = demo
    assert all(0.6 < w < 1.0 for w in mod.w.values())
    assert 5.0 < inp.g_ini < 50.0 and mod.g_eff < inp.g_ini
    assert np.all(np.diff(mod.pel_tc["p_slow"]) >= -1e-9)
    p_sd = [mod.sgr[float(r)].p_sd(mod.gamma_ac_c) for r in mod.sgr_rates]
    assert p_sd[0] < 0.1 and p_sd[-1] > 0.8
    lo = [mod.sgr[float(r)].viscosity for r in mod.sgr_rates[:2]]
    assert lo[1] == pytest.approx(lo[0], rel=0.02)
