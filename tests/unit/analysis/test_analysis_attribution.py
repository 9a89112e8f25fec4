"""GNN attribution probes: a rotation-invariant model is blind to the direction scrambles."""

from __future__ import annotations

import numpy as np
import torch

from taulc.analysis.attribution import gradient_profile, permutation_importance


def _batch(n: int = 120, seed: int = 0):
    from torch_geometric.data import Batch

    from taulc.structure import build_graph

    rng = np.random.default_rng(seed)
    cell = np.diag([5.0, 5.0, 5.0])
    graphs = []
    for _k in range(2):
        pos = rng.uniform(0, 5, size=(n, 3))
        sp = (rng.uniform(size=n) < 0.2).astype(np.int64)
        y = rng.normal(size=n).astype(np.float32)
        g = build_graph(pos, sp, cell, radius=1.8, targets={"y": y})
        g.cls = torch.from_numpy((y > 0).astype(np.int64))
        g.mask = torch.ones(n, dtype=torch.bool)
        graphs.append(g)
    return Batch.from_data_list(graphs)


def test_rotation_invariant_model_ignores_directions():
    from taulc.models import ParticleGNN

    torch.manual_seed(0)
    batch = _batch()
    inv = ParticleGNN(hidden=16, n_layers=2, radius=1.8, n_rbf=8, angular="none").eval()
    perm = permutation_importance(inv, batch, n_repeats=2).set_index("input")
    assert abs(perm.loc["edge directions", "pearson_y_drop"]) < 1e-5
    assert abs(perm.loc["shear-frame orientation", "pearson_y_drop"]) < 1e-5
    aniso = ParticleGNN(hidden=16, n_layers=2, radius=1.8, n_rbf=8, angular="l2").eval()
    base = aniso(batch)["y_pred"].detach()
    from taulc.analysis.attribution import _perturbed

    rotated = _perturbed(batch, "shear-frame orientation", torch.Generator().manual_seed(1))
    moved = aniso(rotated)["y_pred"].detach()
    still = inv(rotated)["y_pred"].detach() - inv(batch)["y_pred"].detach()
    # the shear-frame model sees the orientation (untrained, so the effect is small but far above round-off)
    assert (moved - base).abs().max() > 1e-6 and still.abs().max() < 1e-7
    prof = gradient_profile(aniso, batch, n_bins=6)
    assert len(prof) == 6 and prof["n_edges"].sum() > 0
    assert np.isfinite(prof["abs_grad_dx"]).all()
