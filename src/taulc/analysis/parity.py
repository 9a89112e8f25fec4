"""Regression parity (core paper Fig. 17) with the honest-skill table beside it.

The table is the one ``train.py`` writes to the run's metrics (``skill.regression.rows``,
:mod:`taulc.evaluation.skill`): Pearson and Spearman of the reference species within
each γ̇ and configuration, their noise ceilings √(split-half reliability) on the
same particles and grouping, the training-split baselines and the skill, then the
pooled numbers labelled as pooled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import RatePalette, plt, rate_label
from taulc.evaluation.skill import SCORE_FIELDS

log = logging.getLogger(__name__)

__all__ = ["skill_frame", "plot_parity"]


def skill_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Score rows as a DataFrame with the columns of :data:`taulc.evaluation.skill.SCORE_FIELDS`."""
    return pd.DataFrame([{k: r.get(k) for k in SCORE_FIELDS} for r in rows], columns=list(SCORE_FIELDS))


def _row(table: pd.DataFrame, scope: str) -> pd.Series | None:
    sel = table[table.scope == scope]
    return sel.iloc[0] if len(sel) else None


def plot_parity(
    y: np.ndarray,
    pred: np.ndarray,
    rate: np.ndarray,
    table: pd.DataFrame,
    palette: RatePalette,
    model_name: str = "",
    target_label: str = r"$\ln\tau_{\rm LC}$",
    reference: str = "big particles",
):
    """Fig. 17 for the reference particles: predicted vs true coloured by γ̇, y = x line, per-γ̇ mean
    arrows; text: within-rate mean Pearson with its ceiling, best baseline and skill, and the pooled values;
    inset: Pearson per γ̇ (dots) with its noise ceiling (red) and the best baseline (grey)."""
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
        ax.annotate(
            "",
            xy=(mu, lo - pad + 0.06 * (hi - lo)),
            xytext=(mu, lo - pad),
            arrowprops=dict(arrowstyle="-|>", color=palette(r), lw=1.8),
        )
        ax.scatter([], [], s=20, color=palette(r), label=rate_label(r))
    ax.set_xlabel(f"true {target_label}")
    ax.set_ylabel(f"predicted {target_label}")
    ax.set_title(f"parity, test split, {reference} {model_name} (Fig. 17)")
    h, pr, pa = _row(table, "within_rate_mean"), _row(table, "pooled_rates"), _row(table, "pooled_all_species")
    text = []
    if h is not None:
        text.append(f"within-rate Pearson {h.pearson:.3f} (ceiling {h.ceiling:.2f})")
        text.append(f"best baseline {h.best_baseline_name} {h.best_baseline:.3f}, skill {h.skill:+.3f}")
    if pr is not None:
        text.append(f"pooled over rates {pr.pearson:.3f} (ceiling {pr.ceiling:.2f})")
    if pa is not None:
        text.append(f"pooled, all species {pa.pearson:.3f}")
    ax.text(
        0.03,
        0.97,
        "\n".join(text),
        transform=ax.transAxes,
        va="top",
        fontsize=7.5,
        bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9),
    )
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.84), markerscale=1.2)
    ins = ax.inset_axes([0.60, 0.30, 0.36, 0.26])
    per = table[table.scope == "rate"]
    xs = np.arange(len(per))
    ins.plot(xs, per["pearson"].astype(float), "-", color="0.5", lw=0.8)
    for x, (_, row) in zip(xs, per.iterrows()):
        ins.plot(x, row.pearson, "o", ms=5, color=palette(float(row.group)))
        ins.plot(x, row.ceiling, "_", ms=10, color="tab:red", mew=2)
        ins.plot(x, row.best_baseline, "x", ms=5, color="0.4")
    ins.axhline(0.0, color="k", lw=0.5)
    ins.set_xticks(xs)
    ins.set_xticklabels([f"{float(g):g}" for g in per["group"]], fontsize=6, rotation=30)
    ins.set_ylabel("Pearson", fontsize=7)
    ins.set_xlabel(r"$\dot\gamma$ (red: ceiling, x: baseline)", fontsize=7)
    ins.tick_params(labelsize=6)
    fig.tight_layout()
    return fig
