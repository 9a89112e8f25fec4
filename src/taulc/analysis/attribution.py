"""Input attribution for the GNN (issue item 3c): permutation importance of its input groups and a
gradient × input profile over neighbour distance.

The GNN sees species, relative vectors (dx, dy, dz, |r|) in the shear frame and, optionally,
descriptors x. Permutation probes (repeated, on test graphs): shuffle species among nodes;
rotate every edge vector randomly (destroys angular information, keeps |r|); rotate each graph
as a whole (destroys the orientation relative to the shear axes only: a rotation-invariant
model is unaffected); permute |r| among edges (radial information); permute descriptor rows.
The score drop is measured on Pearson(ŷ, ln τ) and on the ROC-AUC of the slow/fast score.
The model is any :class:`taulc.models.roles.AttributionModel`: the outputs read are the ones it declares.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import plt
from taulc.models.metrics import pearson
from taulc.models.outputs import REGRESSION, SCORE, first_output

log = logging.getLogger(__name__)

__all__ = ["gnn_scores", "permutation_importance", "gradient_profile", "plot_attribution"]


def _declared_keys(model: Any) -> tuple[str, str | None]:
    """``predict_step`` keys of the model's regression output and of its classification score (None if none)."""

    outs = model.outputs()
    reg, score = first_output(outs, REGRESSION), first_output(outs, SCORE)
    if reg is None:
        raise ValueError(f"{type(model).__name__} declares no regression output to attribute")
    return reg.key, score.key if score is not None else None


def _random_rotations(n: int, gen: Any) -> Any:
    import torch

    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    det = torch.det(q)
    q[det < 0, :, 0] *= -1
    return q.float()


def gnn_scores(model: Any, batch: Any) -> dict[str, float]:
    """Pearson(ŷ, y) and ROC-AUC(score, cls) on the masked nodes with finite targets (NaN without a score output)."""
    import torch
    from sklearn.metrics import roc_auc_score

    reg_key, score_key = _declared_keys(model)
    with torch.no_grad():
        out = model.predict_step(batch, 0)
    m = batch.mask.bool()
    y = batch.y[m].numpy()
    yp = out[reg_key][m].numpy()
    ok = np.isfinite(y)
    res = {"pearson_y": pearson(y[ok], yp[ok]) if ok.sum() > 2 else float("nan")}
    c = batch.cls[m].numpy()
    good = (c == 0) | (c == 1)
    res["roc_auc_cls"] = float("nan")
    if score_key is not None and good.sum() > 2 and len(np.unique(c[good])) == 2:
        res["roc_auc_cls"] = float(roc_auc_score(c[good], out[score_key][m].numpy()[good]))
    return res


def _perturbed(batch: Any, kind: str, gen: Any) -> Any:
    import torch

    b = batch.clone()
    ea = b.edge_attr.clone()
    if kind == "species":
        sp = b.species.clone()
        for g in range(int(b.num_graphs)):
            idx = torch.nonzero(b.batch == g).squeeze(1)
            sp[idx] = b.species[idx[torch.randperm(len(idx), generator=gen)]]
        b.species = sp
    elif kind == "edge directions":
        rot = _random_rotations(ea.shape[0], gen)
        ea[:, :3] = torch.einsum("eij,ej->ei", rot, ea[:, :3])
        b.edge_attr = ea
    elif kind == "shear-frame orientation":
        rot = _random_rotations(int(b.num_graphs), gen)
        g = b.batch[b.edge_index[1]]
        ea[:, :3] = torch.einsum("eij,ej->ei", rot[g], ea[:, :3])
        b.edge_attr = ea
    elif kind == "edge lengths":
        r = ea[:, 3]
        rp = r[torch.randperm(len(r), generator=gen)]
        ea[:, :3] = ea[:, :3] / r.clamp_min(1e-12).unsqueeze(1) * rp.unsqueeze(1)
        ea[:, 3] = rp
        b.edge_attr = ea
    elif kind == "descriptors x":
        b.x = b.x[torch.randperm(b.x.shape[0], generator=gen)]
    else:
        raise ValueError(f"unknown permutation '{kind}'")
    return b


def permutation_importance(model: Any, batch: Any, n_repeats: int = 3, seed: int = 0) -> pd.DataFrame:
    """Drop of each score when one input group is scrambled (mean ± std over ``n_repeats``)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    base = gnn_scores(model, batch)
    kinds = ["species", "edge directions", "shear-frame orientation", "edge lengths"]
    if getattr(batch, "x", None) is not None and model.n_node_features:
        kinds.append("descriptors x")
    rows = []
    for k in kinds:
        vals = [gnn_scores(model, _perturbed(batch, k, gen)) for _ in range(n_repeats)]
        row: dict[str, Any] = {"input": k}
        for s in base:
            d = np.array([base[s] - v[s] for v in vals])
            row[f"{s}_base"] = base[s]
            row[f"{s}_drop"] = float(np.mean(d))
            row[f"{s}_drop_std"] = float(np.std(d))
        rows.append(row)
    return pd.DataFrame(rows)


def gradient_profile(model: Any, batch: Any, n_bins: int = 20) -> pd.DataFrame:
    """Gradient × input of Σ ŷ over the masked nodes w.r.t. every edge input, averaged in |r| bins
    and split by the species of the neighbour (source node), plus mean |∂Σŷ/∂(dx, dy, dz)| per bin."""
    reg_key, _ = _declared_keys(model)
    b = batch.clone()
    ea = b.edge_attr.clone().float().requires_grad_(True)
    b.edge_attr = ea
    out = model.predict_step(b, 0)
    out[reg_key][b.mask.bool()].sum().backward()
    g = ea.grad.detach().numpy()
    e = ea.detach().numpy()
    gxi = np.abs((g * e).sum(1))
    r = e[:, 3]
    rmax = float(model.cutoff)
    edges = np.linspace(0, rmax, n_bins + 1)
    idx = np.clip(np.digitize(r, edges) - 1, 0, n_bins - 1)
    src_sp = b.species[b.edge_index[0]].numpy()
    rows = []
    for k in range(n_bins):
        m = idx == k
        row = {"r_lo": edges[k], "r_hi": edges[k + 1], "n_edges": int(m.sum())}
        for sp, name in ((0, "big"), (1, "small")):
            mm = m & (src_sp == sp)
            row[f"grad_x_input_{name}"] = float(gxi[mm].mean()) if mm.any() else np.nan
        for c, name in enumerate(("dx", "dy", "dz")):
            row[f"abs_grad_{name}"] = float(np.abs(g[m, c]).mean()) if m.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def plot_attribution(perm: pd.DataFrame, prof: pd.DataFrame, model_name: str = "GNN"):
    """(a) permutation importance bars; (b) gradient × input vs |r|; (c) |∂Σŷ/∂r_ij| components."""
    fig, axs = plt.subplots(1, 3, figsize=(13.5, 3.8))
    ax = axs[0]
    y = np.arange(len(perm))
    ax.barh(
        y - 0.18,
        perm["pearson_y_drop"],
        0.36,
        xerr=perm["pearson_y_drop_std"],
        color="tab:blue",
        label=r"Pearson($\hat y$, $\ln\tau_{\rm LC}$)",
    )
    ax.barh(
        y + 0.18, perm["roc_auc_cls_drop"], 0.36, xerr=perm["roc_auc_cls_drop_std"], color="tab:orange", label="ROC-AUC slow/fast"
    )
    ax.set_yticks(y)
    ax.set_yticklabels(perm["input"])
    ax.axvline(0, color="k", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("score drop when scrambled")
    ax.set_title(f"(a) permutation importance ({model_name})")
    ax.legend(loc="lower right")
    mid = 0.5 * (prof["r_lo"] + prof["r_hi"])
    ax = axs[1]
    ax.plot(mid, prof["grad_x_input_big"], "o-", ms=3, label="neighbour big (b)")
    ax.plot(mid, prof["grad_x_input_small"], "s-", ms=3, label="neighbour small (s)")
    ax.set_xlabel(r"neighbour distance $|r_{ij}|$ ($\sigma_{bb}$)")
    ax.set_ylabel(r"mean |gradient × input| of $\sum\hat y$")
    ax.set_title("(b) gradient × input by distance")
    ax.legend()
    ax = axs[2]
    for c, lab in (("dx", "x (flow)"), ("dy", "y (gradient)"), ("dz", "z (vorticity)")):
        ax.plot(mid, prof[f"abs_grad_{c}"], "o-", ms=3, label=lab)
    ax.set_xlabel(r"neighbour distance $|r_{ij}|$ ($\sigma_{bb}$)")
    ax.set_ylabel(r"mean $|\partial\sum\hat y/\partial r_{ij,\alpha}|$ (per $\sigma_{bb}$)")
    ax.set_title("(c) sensitivity to each shear-frame axis")
    ax.legend()
    fig.tight_layout()
    return fig
