"""The rheology section's numbers on the shipped demo dataset and its start-up runs (~6 s).

Checks the paper's qualitative statements with the measured inputs: Eq. 5 reproduces the MD
viscosity within 25 % at every rate (shear thinning), w = G_eff/G_ini ≈ 0.8 (App. B), PEL
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
    inp, mod = demo
    for r, d in mod.duality.items():
        assert d.eta == pytest.approx(inp.eta_md[r][0], rel=0.25)
    etas = [mod.duality[r].eta for r in sorted(mod.duality)]
    assert np.all(np.diff(etas) < 0)  # shear thinning


def test_neighbour_loss_weakening_and_s_shapes(demo):
    inp, mod = demo
    assert all(0.6 < w < 1.0 for w in mod.w.values())
    assert 5.0 < inp.g_ini < 50.0 and mod.g_eff < inp.g_ini
    assert np.all(np.diff(mod.pel_tc["p_slow"]) >= -1e-9)
    p_sd = [mod.sgr[float(r)].p_sd(mod.gamma_ac_c) for r in mod.sgr_rates]
    assert p_sd[0] < 0.1 and p_sd[-1] > 0.8
    lo = [mod.sgr[float(r)].viscosity for r in mod.sgr_rates[:2]]
    assert lo[1] == pytest.approx(lo[0], rel=0.02)
