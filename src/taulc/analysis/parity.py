"""Regression parity (core paper Fig. 17): predicted vs true ln τ with per-γ̇ Pearson and the
label-noise ceiling √(split-half reliability) next to every value."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import RatePalette, plt, rate_label
from taulc.models.metrics import grouped_pearson, pearson

log = logging.getLogger(__name__)

__all__ = ["RELIABILITY_KEY", "noise_ceilings", "parity_table", "plot_parity"]

RELIABILITY_KEY = {"ln_tau_lc": "reliability_lc", "ln_tau_sh": "reliability_sh", "mobility": "reliability_mobility"}


def _ceil(rel: np.ndarray) -> float:
    rel = rel[np.isfinite(rel)]
    return float(np.sqrt(np.clip(rel.mean(), 0.0, 1.0))) if rel.size else float("nan")


def noise_ceilings(shard_stats: Sequence[Mapping[str, Any]], target: str = "ln_tau_lc") -> np.ndarray:
    """Per-shard split-half reliability of the target's labels (NaN where absent)."""
    key = RELIABILITY_KEY.get(target, "reliability_lc")
    out = []
    for st in shard_stats:
        v = st.get(key, np.nan)
        out.append(float(np.ravel(v)[0]) if v is not None and np.size(v) else np.nan)
    return np.asarray(out, dtype=np.float64)


def parity_table(y: np.ndarray, pred: np.ndarray, config_id: np.ndarray, rate: np.ndarray,
                 reliability: np.ndarray, shard_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Pearson pooled, per configuration (and their mean), per γ̇, each with its noise ceiling
    (√ of the mean split-half reliability of the configurations involved)."""
    ok = np.isfinite(y) & np.isfinite(pred)
    y, pred, config_id, rate = y[ok], pred[ok], config_id[ok], rate[ok]
    cfgs = np.unique(config_id)
    rows = [{"scope": "pooled", "group": "all", "n": int(len(y)), "pearson": pearson(y, pred),
             "noise_ceiling": _ceil(reliability[cfgs])}]
    pc = grouped_pearson(y, pred, config_id)
    vals = np.array([v for v in pc.values() if np.isfinite(v)])
    rows.append({"scope": "per-configuration mean", "group": "all", "n": int(len(y)),
                 "pearson": float(vals.mean()) if vals.size else float("nan"),
                 "noise_ceiling": float(np.nanmean(np.sqrt(np.clip(reliability[cfgs], 0, 1))))})
    for r in np.unique(rate):
        m = rate == r
        rows.append({"scope": "rate", "group": f"{float(r):g}", "n": int(m.sum()), "pearson": pearson(y[m], pred[m]),
                     "noise_ceiling": _ceil(reliability[np.unique(config_id[m])])})
    for c in cfgs:
        m = config_id == c
        rows.append({"scope": "configuration", "group": shard_ids[int(c)] if shard_ids is not None else str(int(c)),
                     "n": int(m.sum()), "pearson": pearson(y[m], pred[m]),
                     "noise_ceiling": float(np.sqrt(np.clip(reliability[int(c)], 0, 1)))})
    return pd.DataFrame(rows)


def plot_parity(y: np.ndarray, pred: np.ndarray, rate: np.ndarray, table: pd.DataFrame, palette: RatePalette,
                model_name: str = "", target_label: str = r"$\ln\tau_{\rm LC}$"):
    """Fig. 17: scatter of predicted vs true coloured by γ̇, y = x line, per-γ̇ mean arrows, inset of
    per-γ̇ Pearson (dashed: pooled), pooled / per-configuration values with their noise ceilings."""
    ok = np.isfinite(y) & np.isfinite(pred)
    y, pred, rate = y[ok], pred[ok], rate[ok]
    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    rates = np.unique(rate)
    order = np.random.default_rng(0).permutation(len(y))
    ax.scatter(y[order], pred[order], s=6, c=[palette(r) for r in rate[order]], alpha=0.6, lw=0)
    lo = float(min(y.min(), pred.min()))
    hi = float(max(y.max(), pred.max()))
    pad = 0.05 * (hi - lo)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k-", lw=1.2)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    for r in rates:
        mu = float(y[rate == r].mean())
        ax.annotate("", xy=(mu, lo - pad + 0.06 * (hi - lo)), xytext=(mu, lo - pad),
                    arrowprops=dict(arrowstyle="-|>", color=palette(r), lw=1.8))
        ax.scatter([], [], s=20, color=palette(r), label=rate_label(r))
    ax.set_xlabel(f"true {target_label}")
    ax.set_ylabel(f"predicted {target_label}")
    pooled = table[table.scope == "pooled"].iloc[0]
    pcm = table[table.scope == "per-configuration mean"].iloc[0]
    ax.set_title(f"parity, test split {model_name} (Fig. 17)")
    ax.text(0.03, 0.97, f"pooled Pearson {pooled.pearson:.3f} (ceiling {pooled.noise_ceiling:.2f})\n"
                        f"per-config mean {pcm.pearson:.3f} (ceiling {pcm.noise_ceiling:.2f})",
            transform=ax.transAxes, va="top", fontsize=8,
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.89), markerscale=1.2)
    ins = ax.inset_axes([0.60, 0.30, 0.36, 0.26])
    pr = table[table.scope == "rate"]
    xs = np.arange(len(pr))
    ins.plot(xs, pr["pearson"], "-", color="0.5", lw=0.8)
    for x, (_, row) in zip(xs, pr.iterrows()):
        ins.plot(x, row.pearson, "o", ms=5, color=palette(float(row.group)))
        ins.plot(x, row.noise_ceiling, "_", ms=10, color="tab:red", mew=2)
    ins.axhline(pooled.pearson, color="k", ls="--", lw=0.8)
    ins.set_xticks(xs)
    ins.set_xticklabels([f"{float(g):g}" for g in pr["group"]], fontsize=6, rotation=30)
    ins.set_ylabel("Pearson", fontsize=7)
    ins.set_xlabel(r"$\dot\gamma$ (red: ceiling)", fontsize=7)
    ins.tick_params(labelsize=6)
    fig.tight_layout()
    return fig
