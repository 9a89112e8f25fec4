"""Dynamics figures from the labels (core paper Sec. II): spectra (Figs. 2a-b, 6c), τ_sh(τ_LC) with
Eq. 3 fits (Figs. 3a-b, 7), τ_LC,c vs 1/γ̇ (Fig. 3c-d), the Eq. 4 master curve (Fig. 11) and η(γ̇) (Fig. 1).

All fits come from :mod:`taulc.dynamics.relation` and :mod:`taulc.analysis.rheology`; each
function returns ``(figure, table)`` and skips what the data cannot support (with a note).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import GDOT, RatePalette, plain_log_ticks, plt, rate_label
from taulc.analysis.rheology import fit_power_law, thinning_regime
from taulc.dynamics.relation import (
    bin_relation,
    boundary_tau_lc,
    eq3,
    fit_eq3,
    fit_master_curve,
    linear_fit,
    rescale,
)

log = logging.getLogger(__name__)

__all__ = ["plot_spectra", "relation_fits", "plot_relation", "plot_boundary", "plot_master_curve", "plot_flow_curve"]

TAU = r"$\tau$ (LJ time)"


def _log_hist(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    v = v[np.isfinite(v) & (v > 0)]
    h, _ = np.histogram(np.log(v), bins=np.log(edges), density=True)
    return h


def plot_spectra(
    tau_lc: np.ndarray,
    tau_sh: np.ndarray,
    rate: np.ndarray,
    palette: RatePalette,
    t_max: float | None = None,
    focus_rate: float | None = None,
    n_bins: int = 30,
):
    """Normalised spectra H(τ) per unit ln τ: (a) τ_LC per γ̇ (Fig. 6c), (b) τ_sh per γ̇,
    (c) τ_LC and τ_sh at one γ̇ (Fig. 2a-b). Returns ``(fig, table)`` of the histograms."""
    rates = np.unique(rate)
    pos = np.concatenate([tau_lc, tau_sh])
    pos = pos[np.isfinite(pos) & (pos > 0)]
    edges = np.geomspace(pos.min() * 0.999, pos.max() * 1.001, n_bins + 1)
    mid = np.sqrt(edges[1:] * edges[:-1])
    if focus_rate is None:
        sheared = rates[rates > 0]
        focus_rate = float(sheared.min()) if sheared.size else float(rates[0])
    fig, axs = plt.subplots(1, 3, figsize=(12.5, 3.6), sharey=True)
    table: dict[str, Any] = {"tau": mid}
    for r in rates:
        m = rate == r
        hl, hs = _log_hist(tau_lc[m], edges), _log_hist(tau_sh[m], edges)
        axs[0].plot(mid, hl, "-o", ms=3, color=palette(r), label=rate_label(r))
        axs[1].plot(mid, hs, "-o", ms=3, color=palette(r), label=rate_label(r))
        table[f"H_tau_lc@{r:g}"] = hl
        table[f"H_tau_sh@{r:g}"] = hs
    m = rate == focus_rate
    axs[2].plot(mid, _log_hist(tau_lc[m], edges), "-o", ms=3, color="tab:blue", label=r"$\tau_{\rm LC}$")
    axs[2].plot(mid, _log_hist(tau_sh[m], edges), "-s", ms=3, color="tab:red", label=r"$\tau_{\rm sh}$")
    titles = [
        r"(a) $H(\tau_{\rm LC})$ per $\dot\gamma$ (Fig. 6c)",
        r"(b) $H(\tau_{\rm sh})$ per $\dot\gamma$",
        rf"(c) $\tau_{{\rm LC}}$ vs $\tau_{{\rm sh}}$ at {rate_label(focus_rate)} (Fig. 2a-b)",
    ]
    for ax, t in zip(axs, titles):
        ax.set_xscale("log")
        ax.set_xlabel(TAU)
        ax.set_title(t)
        if t_max:
            ax.axvline(t_max, color="0.5", ls=":", lw=1, label=r"$t_{\max}$ (censored: $\tau \leq t_{\max}$)")
        ax.legend(loc="upper left")
        plain_log_ticks(ax, "x")
    axs[0].set_ylabel(r"normalised spectrum $H(\tau)$ (per unit $\ln\tau$)")
    fig.tight_layout()
    return fig, pd.DataFrame(table)


def relation_fits(
    tau_lc: np.ndarray, tau_sh: np.ndarray, rate: np.ndarray, tau_2: float, *, n_bins: int = 20, min_count: int = 5
) -> tuple[dict[float, Any], pd.DataFrame, list[str]]:
    """Per sheared γ̇: binned τ_sh(τ_LC), Eq. 3 fit and the boundary τ_LC,c (Eq. 2: τ_LC − τ_sh = τ_2)."""
    out: dict[float, Any] = {}
    rows = []
    notes: list[str] = []
    for r in np.unique(rate):
        if r <= 0:
            continue
        m = rate == r
        try:
            rel = bin_relation(tau_lc[m], tau_sh[m], n_bins=n_bins, min_count=min_count)
        except ValueError as exc:
            notes.append(f"{rate_label(r)}: no τ_sh(τ_LC) relation ({exc})")
            continue
        fit = None
        try:
            tinf, t0, _ = fit_eq3(rel)
            fit = (tinf, t0)
        except (ValueError, RuntimeError) as exc:
            notes.append(f"{rate_label(r)}: Eq. 3 fit failed ({exc})")
        c_bin = boundary_tau_lc(rel, tau_2)
        c_fit = boundary_tau_lc(rel, tau_2, fit=fit) if fit else float("nan")
        out[float(r)] = {"rel": rel, "fit": fit, "tau_lc_c": c_bin, "tau_lc_c_fit": c_fit}
        rows.append(
            {
                "rate": float(r),
                "n_bins": int(rel.tau_lc.size),
                "tau_sh_inf": fit[0] if fit else np.nan,
                "tau_0": fit[1] if fit else np.nan,
                "tau_lc_c_binned": c_bin,
                "tau_lc_c_fit": c_fit,
                "tau_2": tau_2,
            }
        )
    return out, pd.DataFrame(rows), notes


def plot_relation(fits: Mapping[float, Any], palette: RatePalette, tau_2: float):
    """Fig. 3a-b / 7: bin-averaged τ_sh vs τ_LC, Eq. 3 fits (thin lines), τ_sh = τ_LC (thick black),
    the fast/slow boundary τ_LC,c as a red vertical bar of length τ_2."""
    fig, ax = plt.subplots(figsize=(5.4, 4.2))
    lo, hi = np.inf, 0.0
    for r, f in sorted(fits.items()):
        rel = f["rel"]
        ax.errorbar(rel.tau_lc, rel.tau_sh, yerr=rel.sem, fmt="o", ms=4, color=palette(r), label=rate_label(r))
        lo, hi = min(lo, rel.tau_lc.min()), max(hi, rel.tau_lc.max())
        if f["fit"]:
            x = np.geomspace(rel.tau_lc.min(), rel.tau_lc.max(), 100)
            ax.plot(x, eq3(x, *f["fit"]), "-", lw=1, color=palette(r))
        c = f["tau_lc_c"]
        if np.isfinite(c):
            y = np.interp(c, rel.tau_lc, rel.tau_sh)
            ax.plot([c, c], [y, y + tau_2], "-", color="red", lw=2.5, solid_capstyle="butt")
    if np.isfinite(lo):
        x = np.geomspace(lo, hi, 10)
        ax.plot(x, x, "-", color="k", lw=2.5, alpha=0.6, label=r"$\tau_{\rm sh}=\tau_{\rm LC}$")
    ax.plot([], [], "-", color="0.4", lw=1, label="Eq. 3 fits")
    ax.plot([], [], "-", color="red", lw=2.5, label=r"$\tau_{\rm LC,c}$ (bar length $\tau_2$)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\tau_{\rm LC}$ (LJ time)")
    ax.set_ylabel(r"bin-averaged $\tau_{\rm sh}$ (LJ time)")
    ax.set_title(r"$\tau_{\rm sh}(\tau_{\rm LC})$ (Figs. 3a-b, 7)")
    ax.legend(loc="upper left")
    plain_log_ticks(ax)
    fig.tight_layout()
    return fig


def plot_boundary(table: pd.DataFrame, palette: RatePalette) -> tuple[Any, dict[str, float]]:
    """Fig. 3c-d: τ_LC,c vs 1/γ̇ with a linear fit (needs >= 2 rates with a boundary)."""
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    t = table[np.isfinite(table["tau_lc_c_binned"])]
    inv = 1.0 / t["rate"].to_numpy()
    for x, y, r in zip(inv, t["tau_lc_c_binned"], t["rate"]):
        ax.plot(x, y, "o", ms=7, color=palette(r), label=rate_label(r))
    res: dict[str, float] = {"slope": np.nan, "intercept": np.nan}
    if len(t) >= 2:
        a, b = linear_fit(inv, t["tau_lc_c_binned"])
        xx = np.linspace(0, inv.max() * 1.05, 50)
        ax.plot(xx, a * xx + b, "k--", lw=1, label=rf"fit $\tau_{{\rm LC,c}} = {a:.3g}/\dot\gamma + {b:.3g}$")
        res = {"slope": a, "intercept": b}
    else:
        ax.text(0.5, 0.1, "fewer than 2 rates: no linear fit", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_xlabel(r"$1/\dot\gamma$ (LJ time)")
    ax.set_ylabel(r"$\tau_{\rm LC,c}$ (LJ time)")
    ax.set_title(r"fast/slow boundary vs $1/\dot\gamma$ (Fig. 3c-d)")
    if len(t):
        ax.legend(loc="upper left")
    else:
        ax.text(
            0.5,
            0.5,
            r"no rate reaches $\tau_{\rm LC} - \tau_{\rm sh} = \tau_2$",
            transform=ax.transAxes,
            ha="center",
            color="0.4",
        )
    fig.tight_layout()
    return fig, res


def plot_master_curve(
    fits: Mapping[float, Any],
    tau_lc: np.ndarray,
    tau_sh: np.ndarray,
    rate: np.ndarray,
    palette: RatePalette,
    lam_eta: float | None = None,
) -> tuple[Any, dict[str, float]] | None:
    """Fig. 11: τ_0 vs 1/γ̇, τ_sh^∞ vs γ̇ (power law λ_τ) and the rescaled collapse onto Eq. 4.
    ``None`` when fewer than two sheared rates have an Eq. 3 fit."""
    good = {r: f["fit"] for r, f in fits.items() if f["fit"] is not None}
    if len(good) < 2:
        return None
    mc = fit_master_curve(good)
    fig, axs = plt.subplots(1, 3, figsize=(13.0, 3.8))
    for r in mc.rates:
        axs[0].plot(1 / r, good[r][1], "o", ms=7, color=palette(r))
        axs[1].plot(r, good[r][0], "o", ms=7, color=palette(r), label=rate_label(r))
    xx = np.linspace(0, (1 / mc.rates).max() * 1.05, 50)
    axs[0].plot(xx, mc.a * xx + mc.b, "k--", lw=1, label=rf"$\tau_0 = {mc.a:.3g}/\dot\gamma + {mc.b:.3g}$")
    axs[0].set_xlabel(r"$1/\dot\gamma$ (LJ time)")
    axs[0].set_ylabel(r"$\tau_0$ (LJ time)")
    axs[0].set_title(r"(a) $\tau_0$ vs $1/\dot\gamma$ (Fig. 11a-b)")
    rr = np.geomspace(mc.rates.min(), mc.rates.max(), 20)
    axs[1].plot(rr, mc.c * rr ** (-mc.lam), "k--", lw=1, label=rf"$\tau_{{\rm sh}}^\infty \propto \dot\gamma^{{-{mc.lam:.2f}}}$")
    axs[1].set_xscale("log")
    axs[1].set_yscale("log")
    axs[1].set_xlabel(rf"shear rate {GDOT} (LJ units)")
    axs[1].set_ylabel(r"$\tau_{\rm sh}^\infty$ (LJ time)")
    axs[1].set_title(r"(b) $\tau_{\rm sh}^\infty(\dot\gamma)$, exponent $\lambda_\tau$ (Fig. 11c-d)")
    xmax = 0.0
    for r, f in sorted(fits.items()):
        if r not in good:
            continue
        x, y = rescale(f["rel"].tau_lc, f["rel"].tau_sh, r, mc)
        axs[2].plot(x, y, "o", ms=4, color=palette(r), label=rate_label(r))
        xmax = max(xmax, float(x.max()))
    xs = np.linspace(0, max(xmax, 1.0) * 1.05, 200)
    axs[2].plot(xs, 1 - np.exp(-xs), "k--", lw=1.2, label=r"Eq. 4: $1-e^{-\tau^*_{\rm LC}}$")
    axs[2].set_xlabel(r"$\tau^*_{\rm LC} = \tau_{\rm LC}/(a/\dot\gamma + b)$")
    axs[2].set_ylabel(r"$\tau^*_{\rm sh} = \tau_{\rm sh}/(c\,\dot\gamma^{-\lambda_\tau})$")
    axs[2].set_title("(c) rescaled master curve (Eq. 4, Fig. 11e-f)")
    for ax in axs:
        ax.legend(loc="best")
    plain_log_ticks(axs[1])
    fig.tight_layout()
    return fig, {
        "a": mc.a,
        "b": mc.b,
        "c": mc.c,
        "lambda_tau": mc.lam,
        "lambda_eta": float(lam_eta) if lam_eta is not None else float("nan"),
    }


def plot_flow_curve(
    rates: Sequence[float],
    eta: Sequence[float],
    eta_sem: Sequence[float],
    palette: RatePalette,
    slope_threshold: float = 0.3,
    min_rate: float | str | None = "auto",
) -> tuple[Any, dict[str, float], pd.DataFrame]:
    """Fig. 1: η(γ̇) with the power law η ∝ γ̇^-λ fitted over the shear-thinning regime."""
    r = np.asarray(rates, dtype=np.float64)
    e = np.asarray(eta, dtype=np.float64)
    s = np.asarray(eta_sem, dtype=np.float64)
    ok = (r > 0) & np.isfinite(e)
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    res: dict[str, float] = {"lambda": np.nan, "lambda_err": np.nan, "prefactor": np.nan, "min_rate": np.nan}
    thin = thinning_regime(r, e, slope_threshold, min_rate)
    for ri, ei, si in zip(r[ok], e[ok], s[ok]):
        ax.errorbar(ri, ei, yerr=si if np.isfinite(si) else None, fmt="o", ms=7, color=palette(ri), capsize=2)
    ax.plot(r[ok], e[ok], "-", color="0.6", lw=0.8, zorder=0)
    if thin.sum() >= 2:
        pl = fit_power_law(r[thin], e[thin], s[thin])
        xx = np.geomspace(r[thin].min() / 1.5, r[thin].max() * 1.5, 20)
        ax.plot(xx, pl(xx), "k--", lw=1.2, label=rf"$\eta \propto \dot\gamma^{{-\lambda}}$, $\lambda = {pl.lam:.2f}$")
        ax.axvspan(r[thin].min() / 1.2, r[thin].max() * 1.2, color="gold", alpha=0.15, lw=0, label="shear-thinning fit range")
        res = {"lambda": pl.lam, "lambda_err": pl.lam_err, "prefactor": pl.prefactor, "min_rate": float(r[thin].min())}
    else:
        ax.text(0.5, 0.1, "fewer than 2 sheared rates: no power-law fit", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(rf"shear rate {GDOT} (LJ units)")
    ax.set_ylabel(r"viscosity $\eta = -\langle p_{xy}\rangle/\dot\gamma$ (LJ units)")
    ax.set_title("flow curve (Fig. 1)")
    if thin.sum() >= 2:
        ax.legend(loc="lower left")
    plain_log_ticks(ax)
    fig.tight_layout()
    table = pd.DataFrame({"rate": r, "eta": e, "eta_sem": s, "in_thinning_fit": thin})
    return fig, res, table
