"""κ-vs-dynamics tables (Kapteijns et al. 2021, Sec. III.C) on planted fields: signs and populations."""

from __future__ import annotations

import numpy as np

from taulc.analysis.kappa import kappa_tables
from taulc.data.storage import save_npz


def test_planted_soft_particles_are_mobile_and_fast(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    man = {"shards": []}
    kappas = []
    for c in range(2):
        sp = (np.arange(n) >= 400).astype(np.int64)
        mob = rng.lognormal(size=n)
        tau = np.exp(2.0 - mob + 0.01 * rng.normal(size=n))
        tau[:5] = np.nan  # censored particles are skipped, not replaced
        (tmp_path / "shards").mkdir(exist_ok=True)
        save_npz(tmp_path / f"shards/c{c}.npz", {"species": sp, "tau_lc": tau, "mobility": np.stack([mob * 0.5, mob])})
        man["shards"].append({"id": f"c{c}", "file": f"shards/c{c}.npz", "rate": 0.0})
        kappas.append(20.0 / mob)  # soft <-> mobile <-> fast
    table, pools = kappa_tables(tmp_path, kappas, man, frac=0.1)
    assert len(table) == 4
    assert (table.spearman_inv_kappa_mobility > 0.999).all()
    assert (table.spearman_kappa_ln_tau_lc > 0.99).all()
    assert pools["mobile"].max() < pools["immobile"].min()
    assert pools["rank_mobile"].max() <= 0.1 and pools["rank_immobile"].min() >= 0.9
