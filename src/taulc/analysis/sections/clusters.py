"""Report section: convective clusters of cage jumps and the ν_c = λ/(D+1) scaling (Zeng, Yu & Wang 2025,
"Convective clusters of cage jumps", Eq. 1, 4-10, Table I, Figs. 1-4); the per-rate analysis is
:mod:`taulc.analysis.cluster_analysis`.

Inside ``evaluate.py`` it runs when ``analysis.clusters.trajectories`` names the steady-shear runs
(``+analysis.clusters.trajectories=runs/clusters_md``, written by ``bench/cluster_runs.py``); on its own it
is :mod:`taulc.analysis.clusters_report` (``python -m taulc.analysis.clusters_report``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.cluster_analysis import RateResult, analyse_runs, scaling_table
from taulc.analysis.context import AnalysisSpec, analysis_spec
from taulc.analysis.plotting import RatePalette
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter
from taulc.md.system import load_system

log = logging.getLogger(__name__)

__all__ = ["section_clusters", "write_section", "write"]


def _figures(rep: ReportWriter, results: Sequence[RateResult], sc: Mapping[str, Any]) -> None:
    import matplotlib.pyplot as plt

    pal = RatePalette([r.rate for r in results])
    # life cycle of the cluster with the largest stress rise
    best, best_rise = None, -np.inf
    for r in results:
        for lc in r.life_cycles:
            if np.isfinite(lc.t0) and np.isfinite(lc.t2):
                rise = lc.yield_stress - float(np.interp(lc.t0, lc.times, lc.sigma))
                if rise > best_rise:
                    best, best_rise, best_rate = lc, rise, r.rate
    if best is not None:
        fig, axs = plt.subplots(4, 1, figsize=(6, 9), sharex=True)
        t = best.times
        axs[0].plot(t, best.sigma, color="C3", label=r"$\sigma_c$")
        ax2 = axs[0].twinx()
        ax2.plot(t, best.gamma, color="C0", label=r"$\gamma_c$ incremental")
        if best.gamma_t0.shape == t.shape:
            ax2.plot(t, best.gamma_t0, color="C1", label=r"$\gamma_c$ referenced to $t_0$")
            ax2.plot(
                t,
                best.applied - np.interp(best.t0, t, best.applied) if np.isfinite(best.t0) else best.applied,
                color="0.6",
                ls=":",
                label=r"$\dot\gamma (t - t_0)$",
            )
        ax2.legend(loc="upper left", fontsize=7)
        axs[0].set_ylabel(r"$\sigma_c$ (Eq. 4)")
        ax2.set_ylabel(r"$\gamma_c$ (Eq. 5-7)")
        axs[1].bar(t, best.n_cj, width=t[1] - t[0], color="0.3")
        axs[1].set_ylabel(r"$n_{cj}$")
        axs[2].plot(t, best.p_ext, color="C2")
        axs[2].axhline(0.5, color="0.7", ls=":")
        axs[2].set_ylabel(r"$P_{ext}$")
        axs[3].plot(t, best.residual, color="C4")
        axs[3].set_ylabel("R")
        axs[3].set_xlabel("t")
        for ax in axs:
            for tk, _name in zip((best.t0, best.t1, best.t2, best.t3), ("t0", "t1", "t2", "t3")):
                if np.isfinite(tk):
                    ax.axvline(tk, color="0.6", ls="--", lw=0.8)
        axs[0].set_title(f"cluster life cycle, rate {best_rate:g}, V = {best.volume:.1f}")
        rep.figure(
            "cluster_life_cycle",
            fig,
            "Life cycle of the traced cluster with the largest stress rise "
            "(Fig. 2a-d): σ_c, γ_c (incremental and referenced to t_0), n_cj, P_ext, R; dashed: t_0..t_3.",
        )
    # cage-jump events of one t_χ window in a slab of the shear plane, coloured by cluster (Fig. 1b / 5b)
    r0 = results[0]
    if r0.example_clusters is not None and r0.example_clusters.n_clusters:
        cl, ev = r0.example_clusters, r0.example_events
        zc = cl.centres[int(np.argmax(cl.volumes)), 2]
        lab = cl.label_of(ev)
        sl = np.abs(((ev[:, 2] - zc + cl.cell[2, 2] / 2) % cl.cell[2, 2]) - cl.cell[2, 2] / 2) < 1.5
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(ev[sl & (lab == 0), 0], ev[sl & (lab == 0), 1], s=6, c="0.7")
        ax.scatter(ev[sl & (lab > 0), 0], ev[sl & (lab > 0), 1], s=10, c=lab[sl & (lab > 0)], cmap="tab20")
        a, b = cl.cell[0, :2], cl.cell[1, :2]
        box = np.array([[0, 0], a, a + b, b, [0, 0]])
        ax.plot(box[:, 0], box[:, 1], "k-", lw=0.8)
        ax.set(
            xlabel="x (flow)",
            ylabel="y (gradient)",
            aspect="equal",
            title=f"rate {r0.rate:g}: jumps in one t_χ window, |z - z_c| < 1.5",
        )
        rep.figure(
            "cluster_events",
            fig,
            "Cage-jump events accumulated over t_χ in a slab of the shear plane, "
            "coloured by demarcated cluster, grey = background (Fig. 1b / 5b); tilted cell outlined.",
        )
    # ξ_c and η vs rate
    fig, axs = plt.subplots(1, 2, figsize=(9, 3.6))
    rates = np.array([r.rate for r in results])
    axs[0].errorbar(rates, [r.xi_c for r in results], yerr=[r._xi_sem() for r in results], fmt="o", color="k")
    if "nu_c" in sc:
        xx = np.geomspace(rates.min(), rates.max(), 20)
        y0 = results[0].xi_c * (xx / rates[0]) ** (-sc["nu_c"])
        axs[0].plot(xx, y0, "k--", label=f"ν_c = {sc['nu_c']:.3f} ± {sc['nu_c_err']:.3f}")
        axs[0].legend()
    axs[0].set(xscale="log", yscale="log", xlabel="shear rate", ylabel=r"$\xi_c$")
    axs[1].plot(rates, [r.eta for r in results], "o", color="k", label="η (Eq. 1)")
    etac = [r.row()["eta_c"] for r in results]
    axs[1].plot(rates, etac, "s", mfc="none", color="C3", label=r"$\eta_c$ (Eq. 8)")
    axs[1].set(xscale="log", yscale="log", xlabel="shear rate", ylabel="viscosity")
    axs[1].legend()
    rep.figure("cluster_scaling", fig, "Cluster radius ξ_c(γ̇) with its power-law fit (Fig. 3c) and η vs η_c (Fig. 3b).")
    if any(r.g_cj is not None for r in results):
        fig, axs = plt.subplots(1, 2, figsize=(9, 3.4))
        for r in results:
            if r.g_cj is None:
                continue
            rc, g, a = r.g_cj
            axs[0].plot(rc, g, "o-", color=pal(r.rate), label=f"{r.rate:g}")
            axs[1].plot(rc, a, "o-", color=pal(r.rate))
        axs[0].set(xlabel="r", ylabel=r"$g_{cj}(r)$")
        axs[1].set(xlabel="r", ylabel=r"$\alpha(r)$ (noise subtracted)")
        axs[1].axhline(0.0, color="0.7", ls=":")
        axs[0].legend(title="rate")
        rep.figure(
            "cluster_gcj",
            fig,
            "Jump-jump correlation g_cj(r) and anisotropy α(r) (Eq. 10, Fig. 4b-c); "
            "α with the Poisson noise of the angular bins subtracted.",
        )


def write_section(rep: ReportWriter, results: Sequence[RateResult]) -> dict[str, Any]:
    """Tables, figures and summary numbers into a :class:`taulc.analysis.writer.ReportWriter`."""
    sc = scaling_table(results)
    rep.h("Convective clusters of cage jumps (Zeng, Yu & Wang 2025)")
    df = pd.DataFrame([r.row() for r in results])
    rep.table(
        "clusters_per_rate",
        df,
        caption="Per shear rate: η (Eq. 1), t_χ, ρ_th, clusters, ξ_c, P̄_c "
        "(P_c: dynamic regions at window ends; P_c_conv: Eq. 8's time average of P_c(t)), t_y, σ_c,y, "
        "η_c (Eq. 8, with either P̄_c), p_hop check",
    )
    if "nu_c" in sc:
        rep.p(
            f"λ = {sc['lam']:.3f} ± {sc['lam_err']:.3f}  →  λ/(D+1) = {sc['lambda_over_D1']:.3f} ± "
            f"{sc['lambda_over_D1_err']:.3f};  ν_c = {sc['nu_c']:.3f} ± {sc['nu_c_err']:.3f}  "
            f"(paper, Table I, 3D MD: λ/(D+1) = 0.182, ν_c = 0.176)."
        )
    else:
        rep.skip("ν_c fit", "needs at least 2 shear rates")
    _figures(rep, results, sc)
    rep.summary["clusters"] = {"per_rate": df.to_dict(orient="records"), "scaling": sc}
    return sc


def section_clusters(rep: ReportWriter, acfg: AnalysisSpec | Mapping[str, Any] | None) -> None:
    """Hook for ``evaluate.py``: runs when ``analysis.clusters.trajectories`` names a folder
    (``acfg``: the :class:`~taulc.analysis.context.AnalysisSpec` or an ``analysis`` mapping)."""

    spec = analysis_spec(acfg).clusters  # a ClustersSpec, checked with the rest of the evaluate config
    if not spec.trajectories:
        rep.skip("convective clusters", "analysis.clusters.trajectories is not set (bench/cluster_runs.py output)")
        return
    results = analyse_runs(
        Path(spec.trajectories), load_system(spec.system), spec.settings, Path(spec.manifest) if spec.manifest else None
    )
    write_section(rep, results)


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    """The evaluate.py section (skipped inside, with the reason, when no trajectories are configured)."""
    section_clusters(rep, inp.acfg)
    return True
