"""Figures and tables for feature importance: Fig. 16 (Pearson per element), Fig. 18 and Table I."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from taulc.analysis.importance import GramStats, GreedyResult, parse_feature_name
from taulc.analysis.plotting import plt
from taulc.models.metrics import pearson

log = logging.getLogger(__name__)

__all__ = ["fig16_table", "plot_fig16", "table_one", "full_vector_pearson", "plot_fig18"]

SPECIES_NAME = {0: "b", 1: "s", None: "-"}


def fig16_table(names: Sequence[str], pearson: np.ndarray) -> pd.DataFrame:
    """One row per descriptor element: generation, l, m, species, r and its Pearson with the target."""
    rows = [parse_feature_name(n) for n in names]
    df = pd.DataFrame(rows)
    df.insert(0, "column", np.arange(len(names)))
    df["name"] = list(names)
    df["pearson"] = pearson
    return df


def plot_fig16(df: pd.DataFrame, target_label: str = r"$\ln\tau_{\rm LC}$", n_particles: int | None = None):
    """Fig. 16: Pearson of every g_l^m(s, r) element (generation 0) with the target, laid out as
    l blocks (dashed separators), m colours inside a block, r increasing inside each (l, m);
    one panel per neighbour species s. Arrows mark the strongest (l, m) groups."""
    d = df[(df["generation"] == 0) & df["l"].notna()].copy()
    species = [s for s in (0, 1) if (d["species"] == s).any()]
    fig, axs = plt.subplots(len(species), 1, figsize=(12.5, 3.2 * len(species)), squeeze=False)
    cmap = plt.get_cmap("coolwarm")
    for ax, s in zip(axs[:, 0], species):
        ds = d[d["species"] == s].sort_values(["l", "m", "r"]).reset_index(drop=True)
        x = np.arange(len(ds))
        ymax = float(np.nanmax(np.abs(ds["pearson"]))) if len(ds) else 1.0
        for (l, m), g in ds.groupby(["l", "m"], sort=True):
            col = "k" if m == 0 else cmap(0.5 + 0.5 * m / max(l, 1) * 0.95)
            ax.plot(x[g.index], g["pearson"], "-", lw=0.9, color=col)
        for l, g in ds.groupby("l"):
            if g.index.min() > 0:
                ax.axvline(g.index.min() - 0.5, color="0.5", ls="--", lw=0.8)
            ax.text(0.5 * (g.index.min() + g.index.max()), 1.08 * ymax, f"l={int(l)}", ha="center", fontsize=8)
        ax.axhline(0, color="0.7", lw=0.6)
        grp = ds.assign(a=ds["pearson"].abs()).groupby(["l", "m"])["a"].max().sort_values(ascending=False)
        for l, m in grp.index[:2]:
            g = ds[(ds["l"] == l) & (ds["m"] == m)]
            i = g["pearson"].abs().idxmax()
            ax.annotate(
                f"$g_{{{int(l)}}}^{{{int(m)}}}$, r = {ds.loc[i, 'r']:.1f}",
                xy=(x[i], ds.loc[i, "pearson"]),
                xytext=(x[i] + (0.04 if x[i] < 0.8 * len(ds) else -0.12) * len(ds), ds.loc[i, "pearson"] * 0.75),
                arrowprops=dict(arrowstyle="->", color="k"),
                fontsize=8,
            )
        ax.set_xlim(-1, len(ds))
        ax.set_ylim(-1.2 * ymax, 1.2 * ymax)
        ax.set_ylabel(f"Pearson $p$ with {target_label}")
        ax.set_title(
            f"neighbour species s = {SPECIES_NAME.get(s, s)}; reference particles: big"
            + (f" (n = {n_particles})" if n_particles else ""),
            fontsize=9,
            loc="left",
        )
        ax.set_xticks([])
    axs[-1, 0].set_xlabel(
        "feature element: l blocks, m = −l … l (colour: blue m < 0, black m = 0, red m > 0), r = 0.3 … 5.0 inside each (l, m)"
    )
    fig.suptitle(r"Correlation of $g_l^m(s, r)$ (Eq. 9, $l \leq 6$, generation 0) with the target (Fig. 16)", y=1.0)
    fig.tight_layout()
    return fig


def table_one(res: GreedyResult, names: Sequence[str], holdout: np.ndarray | None = None) -> pd.DataFrame:
    """Table I of Appendix C: rank, generation, l, m, species, r and the cumulative Pearson."""
    rows = []
    for i, j in enumerate(res.order):
        p = parse_feature_name(names[j])
        rows.append(
            {
                "rank": i + 1,
                "column": int(j),
                "generation": p["generation"],
                "l": p["l"],
                "m": p["m"],
                "species": SPECIES_NAME.get(p["species"], p["species"]),
                "r": p["r"],
                "cumulative_pearson_train": float(res.pearson[i]),
                "cumulative_pearson_test": float(holdout[i]) if holdout is not None else float("nan"),
                "name": names[j],
            }
        )
    return pd.DataFrame(rows)


def full_vector_pearson(
    st: GramStats, x_test: np.ndarray | None = None, y_test: np.ndarray | None = None, rel_ridge: float = 1e-6
) -> dict[str, float]:
    """Pearson of a least-squares fit on the whole vector (tiny ridge for stability): in-sample and held-out."""

    g = st.gram
    lam = rel_ridge * float(np.trace(g)) / max(1, g.shape[0])
    beta = np.linalg.solve(g + lam * np.eye(g.shape[0]), st.xty)
    r2 = float(beta @ st.xty) / st.tss if st.tss > 0 else 0.0
    out = {"train": float(np.sqrt(np.clip(r2, 0, 1))), "test": float("nan")}
    if x_test is not None and y_test is not None and len(y_test) > 2:
        pred = (np.asarray(x_test, dtype=np.float64) - st.mean_x) @ beta + st.mean_y
        out["test"] = pearson(pred, y_test)
    return out


def plot_fig18(t1: pd.DataFrame, full: dict[str, float], extra_lines: dict[str, float] | None = None, n_train: int | None = None):
    """Fig. 18: cumulative Pearson of the top-k greedy elements (train in-sample and held-out test),
    dashed: the full vector."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    k = t1["rank"].to_numpy()
    ax.plot(k, t1["cumulative_pearson_train"], "o-", ms=4, color="tab:blue", label="greedy top-k, training rows (in-sample)")
    if np.isfinite(t1["cumulative_pearson_test"]).any():
        ax.plot(k, t1["cumulative_pearson_test"], "s-", ms=4, color="tab:orange", label="same models, test rows")
    ax.axhline(full["train"], color="tab:blue", ls="--", lw=1, label="all columns, in-sample")
    if np.isfinite(full.get("test", np.nan)):
        ax.axhline(full["test"], color="tab:orange", ls="--", lw=1, label="all columns, test rows")
    for name, v in (extra_lines or {}).items():
        if np.isfinite(v):
            ax.axhline(v, color="0.3", ls=":", lw=1, label=name)
    ax.set_xticks(k)
    ax.set_xticklabels(
        [
            f"{r['rank']}: g{r['generation']} l{r['l']} m{r['m']} {r['species']} {r['r']:.1f}"
            if r["l"] is not None and r["r"] is not None and np.isfinite(r["r"])
            else f"{r['rank']}: {r['name']}"
            for _, r in t1.iterrows()
        ],
        rotation=90,
        fontsize=6.5,
    )
    ax.set_xlabel("selected element (rank: generation, l, m, neighbour species, r)")
    ax.set_ylabel(r"cumulative Pearson $p$ with $\ln\tau_{\rm LC}$")
    ax.set_title("greedy forward selection (Appendix C, Fig. 18)" + (f", n_train = {n_train}" if n_train else ""))
    ax.set_ylim(bottom=0)
    ax.legend(loc="center right", fontsize=7)
    fig.tight_layout()
    return fig
