"""Hardness H of the linear SVM (core paper Sec. IV.B): maps (Fig. 19) and p_H vs p_slow (Fig. 20)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.clusters import circle_clusters, eq_a1_field, nearest_centre
from taulc.analysis.plotting import GDOT, RatePalette, plt, rate_axis, rate_label

log = logging.getLogger(__name__)

__all__ = ["compute_hardness", "hardness_tables", "plot_ph_pslow", "hardness_map", "plot_hardness_maps"]


def compute_hardness(model: Any, features: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """H of a fitted :class:`taulc.models.roles.HardnessModel` (the SVM: H = (w·z + b)/‖w‖) for every row of
    ``features``."""
    import torch

    out = np.empty(len(features))
    with torch.no_grad():
        for a in range(0, len(features), chunk):
            out[a : a + chunk] = model.hardness(torch.from_numpy(np.asarray(features[a : a + chunk]))).double().numpy()
    return out


def _sem(v: np.ndarray) -> float:
    return float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")


def hardness_tables(
    h: np.ndarray,
    rate: np.ndarray,
    slow: np.ndarray,
    config_id: np.ndarray,
    split_of_config: Mapping[int, str] | None = None,
    shard_ids: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig. 20 numbers: per γ̇ ``H̄`` (mean H over all particles), ``p_H`` (fraction H > 0),
    ``p_slow`` (label fraction, Eq. 2) and ``p_H − p_slow``; and the same per configuration."""
    h = np.asarray(h, dtype=np.float64)
    rows = []
    for r in np.unique(rate):
        m = rate == r
        hv = h[m]
        rows.append(
            {
                "rate": float(r),
                "n": int(m.sum()),
                "n_configs": int(len(np.unique(config_id[m]))),
                "H_mean": float(hv.mean()),
                "H_sem": _sem(hv),
                "p_H": float((hv > 0).mean()),
                "p_slow": float(slow[m].mean()),
                "sign_agreement": float(((hv > 0) == (slow[m] > 0)).mean()),
            }
        )
    per_rate = pd.DataFrame(rows)
    per_rate["p_H_minus_p_slow"] = per_rate["p_H"] - per_rate["p_slow"]
    rows = []
    for c in np.unique(config_id):
        m = config_id == c
        rows.append(
            {
                "config_id": int(c),
                "shard": shard_ids[int(c)] if shard_ids is not None else str(c),
                "rate": float(rate[m][0]),
                "split": (split_of_config or {}).get(int(c), "?"),
                "n": int(m.sum()),
                "H_mean": float(h[m].mean()),
                "p_H": float((h[m] > 0).mean()),
                "p_slow": float(slow[m].mean()),
            }
        )
    per_cfg = pd.DataFrame(rows)
    per_cfg["p_H_minus_p_slow"] = per_cfg["p_H"] - per_cfg["p_slow"]
    return per_rate, per_cfg


def plot_ph_pslow(per_rate: pd.DataFrame, per_cfg: pd.DataFrame, palette: RatePalette):
    """Fig. 20: (a) H̄ vs γ̇ (configurations as small dots); (b) p_H and p_slow vs γ̇."""
    fig, axs = plt.subplots(1, 2, figsize=(9.0, 3.6))
    rates = per_rate["rate"].to_numpy()
    for ax in axs:
        xc = rate_axis(ax, rates)
    x = np.array([xc[r] for r in rates])
    xcfg = np.array([xc[r] for r in per_cfg["rate"]])
    ax = axs[0]
    ax.axhline(0, color="0.6", lw=0.8)
    ax.scatter(xcfg, per_cfg["H_mean"], s=10, color="0.6", label="single configurations", zorder=2)
    ax.errorbar(x, per_rate["H_mean"], yerr=per_rate["H_sem"], fmt="-", color="0.3", lw=1, zorder=3)
    for xi, r, v in zip(x, rates, per_rate["H_mean"]):
        ax.plot(xi, v, "s" if r == 0 else "o", color=palette(r), ms=7, zorder=4)
    ax.set_xlabel(f"shear rate {GDOT} (LJ units)")
    ax.set_ylabel(r"$\bar H$ (mean hardness, standardised feature units)")
    ax.set_title("(a) mean hardness (Fig. 20a-b)")
    ax.legend(loc="best")
    ax = axs[1]
    ax.plot(x, per_rate["p_H"], "-", color="tab:blue", lw=1)
    ax.plot(x, per_rate["p_slow"], "--", color="tab:red", lw=1)
    for xi, r, ph, ps in zip(x, rates, per_rate["p_H"], per_rate["p_slow"]):
        ax.plot(xi, ph, "s" if r == 0 else "o", color="tab:blue", ms=7)
        ax.plot(xi, ps, "D", color="tab:red", ms=6, mfc="none")
    ax.plot([], [], "o-", color="tab:blue", label=r"$p_H$ (fraction with $H>0$, SVM)")
    ax.plot([], [], "D--", color="tab:red", mfc="none", label=r"$p_{\rm slow}$ (labels, Eq. 2)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"shear rate {GDOT} (LJ units)")
    ax.set_ylabel("fraction of particles")
    ax.set_title(r"(b) $p_H$ vs $p_{\rm slow}$ (Fig. 20c-d)")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


def _slice_mask(positions: np.ndarray, cell: np.ndarray, center: float, thickness: float) -> np.ndarray:
    lz = cell[2, 2]
    dz = (positions[:, 2] - center + 0.5 * lz) % lz - 0.5 * lz
    return np.abs(dz) <= 0.5 * thickness


def hardness_map(
    ax,
    shard: Mapping[str, Any],
    h: np.ndarray,
    *,
    norm,
    cmap: str = "RdBu_r",
    thickness: float = 1.5,
    center_frac: float = 0.5,
    n_grid: int = 20,
    oversample: int = 3,
) -> dict[str, Any]:
    """Draw one Fig. 19 panel: x-y slice coloured by H, slow/fast boundary (dashed) and Appendix A clusters.

    The boundary is the 0.5 level of the Eq. A1 convolution of the slow label (l_cg = L/20).
    Slow clusters: centres at the local maxima of the Eq. A1 convolution of ln τ_LC inside
    the slow region, each slow particle to its nearest centre; fast clusters likewise with
    −ln τ_LC in the fast region. Cluster borders are thin grey lines, centres × (slow) / + (fast).
    Returns cluster statistics.
    """
    pos = np.asarray(shard["positions"], dtype=np.float64)
    cell = np.asarray(shard["cell"], dtype=np.float64)
    slow = np.asarray(shard["slow"]) > 0
    ln_lc = np.log(np.asarray(shard["tau_lc"], dtype=np.float64))
    ln_lc = np.where(np.isfinite(ln_lc), ln_lc, np.nanmedian(ln_lc))
    lx, ly, lz, xy = cell[0, 0], cell[1, 1], cell[2, 2], cell[1, 0]
    zc = center_frac * lz
    sel = _slice_mask(pos, cell, zc, thickness)
    frac_field = eq_a1_field(pos, cell, slow.astype(float), n_grid=n_grid, oversample=oversample)
    region_slow = frac_field.coarse > 0.5
    slow_cl = circle_clusters(pos, cell, ln_lc, slow, region=region_slow, n_grid=n_grid, oversample=oversample)
    fast_cl = circle_clusters(pos, cell, -ln_lc, ~slow, region=~region_slow, n_grid=n_grid, oversample=oversample)
    # particles
    sizes = np.where(np.asarray(shard["species"])[sel] == 0, 34.0, 16.0)
    sc = ax.scatter(
        pos[sel, 0], pos[sel, 1], c=h[sel], s=sizes, cmap=cmap, norm=norm, edgecolors="0.25", linewidths=0.3, zorder=2
    )
    # fields on the fine-grid plane nearest the slice centre, wrapped by one node for periodic contours
    m = frac_field.fine.shape[0]
    k = int(np.clip(round(zc / lz * m - 0.5), 0, m - 1))
    s = (np.arange(m + 1) + 0.5) / m
    s1, s2 = np.meshgrid(s, s, indexing="ij")
    gx, gy = s1 * lx + s2 * xy, s2 * ly
    plane = frac_field.fine[:, :, k]
    plane = np.concatenate([plane, plane[:1]], axis=0)
    plane = np.concatenate([plane, plane[:, :1]], axis=1)
    pts = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, (k + 0.5) / m * lz)], axis=1)
    lab = np.full(gx.size, -(10**6), dtype=np.int64)
    in_slow = plane.ravel() > 0.5
    if slow_cl.n_clusters and in_slow.any():
        lab[in_slow] = nearest_centre(pts[in_slow], slow_cl.centres, cell)[0]
    if fast_cl.n_clusters and (~in_slow).any():
        lab[~in_slow] = -1 - nearest_centre(pts[~in_slow], fast_cl.centres, cell)[0]
    lab = lab.reshape(gx.shape)
    for v in np.unique(lab):
        ind = (lab == v).astype(float)
        if 0 < ind.mean() < 1:
            ax.contour(gx, gy, ind, levels=[0.5], colors="0.45", linewidths=0.6, zorder=3)
    if 0 < (plane > 0.5).mean() < 1:
        ax.contour(gx, gy, plane, levels=[0.5], colors="k", linewidths=1.6, linestyles="--", zorder=4)
    half = 0.5 * thickness + 0.5 * lz / n_grid
    for cl, mk in ((slow_cl, "x"), (fast_cl, "+")):
        if cl.n_clusters:
            c = cl.centres
            dz = (c[:, 2] - zc + 0.5 * lz) % lz - 0.5 * lz
            ins = np.abs(dz) <= half
            ax.scatter(c[ins, 0], c[ins, 1], marker=mk, s=60, color="k", linewidths=1.5, zorder=5)
    box = np.array([[0, 0], [lx, 0], [lx + xy, ly], [xy, ly], [0, 0]])
    ax.plot(box[:, 0], box[:, 1], color="0.3", lw=0.8, zorder=1)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$x$ (flow, $\sigma_{bb}$)")
    ax.set_ylabel(r"$y$ (gradient, $\sigma_{bb}$)")
    return {
        "mappable": sc,
        "n_in_slice": int(sel.sum()),
        "n_slow_clusters": slow_cl.n_clusters,
        "n_fast_clusters": fast_cl.n_clusters,
        "mean_slow_cluster_size": float(slow_cl.sizes().mean()) if slow_cl.n_clusters else float("nan"),
        "mean_fast_cluster_size": float(fast_cl.sizes().mean()) if fast_cl.n_clusters else float("nan"),
        "slice_z": float(zc),
        "slice_thickness": float(thickness),
        "p_slow_slice": float(slow[sel].mean()) if sel.any() else float("nan"),
        "p_H_slice": float((h[sel] > 0).mean()) if sel.any() else float("nan"),
    }


def plot_hardness_maps(
    maps: Sequence[tuple[float, str, Mapping[str, Any], np.ndarray]],
    *,
    thickness: float = 1.5,
    center_frac: float = 0.5,
    n_grid: int = 20,
    oversample: int = 3,
) -> tuple[Any, pd.DataFrame]:
    """Fig. 19: one slice per shear rate ``(rate, shard id, shard arrays, H)``, common colour bar."""
    from matplotlib.colors import TwoSlopeNorm

    allh = np.concatenate([m[3] for m in maps])
    lim = float(np.nanpercentile(np.abs(allh), 98)) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    n = len(maps)
    ncol = min(n, 3)
    nrow = int(np.ceil(n / ncol))
    fig, axs = plt.subplots(nrow, ncol, figsize=(4.3 * ncol + 0.8, 4.1 * nrow), squeeze=False)
    rows = []
    mappable = None
    for ax, (rate, sid, shard, h) in zip(axs.flat, maps):
        st = hardness_map(
            ax, shard, h, norm=norm, thickness=thickness, center_frac=center_frac, n_grid=n_grid, oversample=oversample
        )
        mappable = st.pop("mappable")
        ax.set_title(f"{rate_label(rate)}   ({sid})")
        rows.append({"rate": rate, "shard": sid, **st})
    for ax in list(axs.flat)[n:]:
        ax.set_visible(False)
    cb = fig.colorbar(mappable, ax=axs.ravel().tolist(), shrink=0.85, extend="both", pad=0.02)
    cb.set_label(r"hardness $H$ ($>0$: solid-like / slow)")
    axs.flat[0].plot([], [], "k--", lw=1.6, label="slow/fast boundary (labels, Eq. 2)")
    axs.flat[0].plot([], [], "-", color="0.45", lw=0.6, label="cluster borders (App. A)")
    axs.flat[0].scatter([], [], marker="x", color="k", label="slow centre")
    axs.flat[0].scatter([], [], marker="+", color="k", label="fast centre")
    fig.legend(
        *axs.flat[0].get_legend_handles_labels(), loc="lower center", ncol=4, bbox_to_anchor=(0.45, -0.02 if nrow > 1 else -0.06)
    )
    return fig, pd.DataFrame(rows)
