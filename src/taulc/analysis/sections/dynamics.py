"""Section 1: dynamics from the labels -- spectra (Figs. 2a-b, 6c), τ_sh(τ_LC) + Eq. 3 (Figs. 3a-b, 7),
τ_LC,c vs 1/γ̇ (Fig. 3c-d), master curve Eq. 4 (Fig. 11), η(γ̇) and λ (Fig. 1) (Yu, Zeng & Wang 2025)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.context import AnalysisSpec, DatasetContext, analysis_spec
from taulc.analysis.plotting import RatePalette
from taulc.analysis.relaxation import (
    plot_boundary,
    plot_flow_curve,
    plot_master_curve,
    plot_relation,
    plot_spectra,
    relation_fits,
)
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter

__all__ = ["section_dynamics", "write"]


def section_dynamics(
    rep: ReportWriter, ctx: DatasetContext, pal: RatePalette, acfg: AnalysisSpec | Mapping[str, Any] | None = None
) -> None:

    a = analysis_spec(acfg)
    rep.h("1. Dynamics from the labels (Sec. II)")
    tau_lc, tau_sh, rate = ctx.concat("tau_lc"), ctx.concat("tau_sh"), ctx.concat("rate").astype(float)
    tau_2 = float(np.nanmedian([float(s["tau_2"]) for s in ctx.shards if "tau_2" in s]))
    t_max = float(np.nanmedian([float(s["t_max"]) for s in ctx.shards if "t_max" in s])) if "t_max" in ctx.shards[0] else None
    cens = ctx.concat("censored_lc") if "censored_lc" in ctx.shards[0] else np.zeros_like(tau_lc)
    rep.p(
        f"τ_2 = {tau_2:.3g} (Eq. 2 threshold), t_max = {t_max if t_max else float('nan'):.3g} per replica. "
        f"ICE estimates are Kaplan-Meier restricted means, so τ ≤ t_max; {100 * float((cens >= 1).mean()):.1f} % "
        "of the particles were censored in every shear-off replica (their τ_LC is a lower bound)."
    )
    fig, tab = plot_spectra(tau_lc, tau_sh, rate, pal, t_max=t_max, n_bins=a.spectra_bins)
    rep.figure("spectra", fig, "Normalised spectra of τ_LC and τ_sh per shear rate (Figs. 2a-b, 6c). Dotted: t_max.")
    rep.table("spectra", tab, show=False, caption="Histogram values")
    fits, ftab, notes = relation_fits(tau_lc, tau_sh, rate, tau_2, n_bins=a.relation.n_bins, min_count=a.relation.min_count)
    for n in notes:
        rep.skip("τ_sh(τ_LC)", n)
    if fits:
        rep.figure(
            "tau_sh_vs_tau_lc",
            plot_relation(fits, pal, tau_2),
            "Bin-averaged τ_sh(τ_LC) per γ̇ with Eq. 3 fits; red bars: boundary τ_LC,c (length τ_2), Figs. 3a-b/7.",
        )
        rep.table("eq3_fits", ftab, caption="Eq. 3 fits and fast/slow boundaries")
        binned = pd.concat(
            [
                pd.DataFrame(
                    {
                        "rate": r,
                        "tau_lc": f["rel"].tau_lc,
                        "tau_sh": f["rel"].tau_sh,
                        "sem": f["rel"].sem,
                        "count": f["rel"].count,
                    }
                )
                for r, f in fits.items()
            ]
        )
        rep.table("tau_sh_binned", binned, show=False, caption="Binned τ_sh(τ_LC)")
        fig, lin = plot_boundary(ftab, pal)
        rep.figure("boundary_vs_inverse_rate", fig, "Fast/slow boundary τ_LC,c vs 1/γ̇ with a linear fit (Fig. 3c-d).")
        rep.summary["tau_lc_c_fit"] = lin
        if not np.isfinite(lin["slope"]):
            rep.skip("linear fit of τ_LC,c vs 1/γ̇ (Fig. 3c-d)", "needs at least 2 sheared rates with a boundary")
    else:
        rep.skip("τ_sh(τ_LC) figures (Figs. 3, 7)", "no sheared rate in the dataset")
    rates_tab = ctx.manifest.get("rates", {})
    rr = sorted(rates_tab.values(), key=lambda d: float(d.get("rate", 0)))
    r_arr = np.array([float(d.get("rate", np.nan)) for d in rr])
    eta = np.array([float(d.get("eta", np.nan)) if d.get("eta") is not None else np.nan for d in rr])
    sem = np.array([float(d.get("eta_sem", np.nan)) if d.get("eta_sem") is not None else np.nan for d in rr])
    lam = None
    if np.isfinite(eta[r_arr > 0]).any():
        fig, res, tab = plot_flow_curve(r_arr, eta, sem, pal, a.rheology.slope_threshold, a.rheology.thinning_min_rate)
        rep.figure(
            "flow_curve",
            fig,
            "Viscosity η(γ̇) (Eq. 1) with the power law η ∝ γ̇^-λ over the shear-thinning "
            "regime (Fig. 1); error bars: standard error over configurations.",
        )
        rep.table(
            "flow_curve",
            tab,
            caption=f"η(γ̇); λ = {res['lambda']:.3g} ± {res['lambda_err']:.2g}"
            if np.isfinite(res["lambda"])
            else "η(γ̇) (no power-law fit)",
        )
        rep.summary["lambda"] = res
        lam = res["lambda"]
        if not np.isfinite(res["lambda"]):
            rep.skip("power-law fit of η(γ̇) (Fig. 1)", "needs at least 2 sheared rates")
    else:
        rep.skip("flow curve (Fig. 1)", "the manifest has no viscosities")
    mc = plot_master_curve(fits, tau_lc, tau_sh, rate, pal, lam_eta=lam)
    if mc is None:
        rep.skip("master curve (Eq. 4, Fig. 11)", "needs Eq. 3 fits at 2 or more sheared rates")
    else:
        fig, par = mc
        rep.figure("master_curve", fig, "τ_0 vs 1/γ̇, τ_sh^∞ vs γ̇ and the rescaled collapse onto Eq. 4 (Fig. 11).")
        rep.table("master_curve", pd.DataFrame([par]), caption="Master-curve parameters (τ_0 = a/γ̇ + b, τ_sh^∞ = c γ̇^-λ_τ)")
        rep.summary["master_curve"] = par


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    section_dynamics(rep, inp.ctx, inp.pal, inp.acfg)
    return True
