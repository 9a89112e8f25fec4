"""Report section: start-up rheology and its models (Yu, Zeng & Wang 2025, Sec. III and V, App. B).

Figures (core-paper numbering): duality viscosity and p_slow (Fig. 13), C̄(φ) and w (Fig. 31),
start-up stress of slow / fast / all particles, MD vs grid-cell model (Fig. 15), PEL τ_sh(τ_LC)
(Fig. 23) and f(t), t_c, p'_slow (Fig. 24), SGR γ̄ and τ̄_LC(γ̇) (Figs. 25c, 26), P_ac and p_sd
(Fig. 27), η_SGR/η_eq with constant and fitted Ω(γ̇) (Figs. 28-29).  Every table says what was
measured and what was fitted.  The start-up figures need the start-up MD of
:mod:`taulc.data.startup_runs`; without it they are listed as skipped.  The measured inputs and the
models are :mod:`taulc.analysis.rheology_analysis`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.context import AnalysisSpec
from taulc.analysis.plotting import RatePalette, plain_log_ticks, plt, rate_label
from taulc.analysis.rheology_analysis import RheologyInputs, RheologyModels, rheology_inputs, run_models
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter
from taulc.data.startup_runs import load_startup_runs
from taulc.physics.measured import distortion_peaks
from taulc.physics.pel import jump_time_density, mean_jump_time
from taulc.physics.sgr import SGRSteadyState, sgr_steady_state

log = logging.getLogger(__name__)

__all__ = ["section_rheology", "overshoot_table", "write"]

GD = "\u03b3\u0307"


def overshoot_table(inp: RheologyInputs) -> pd.DataFrame:
    """Peak, late-time (last quarter of the run) stress, their ratio and difference, and the strain
    at the peak of the MD start-up curves per rate and group."""
    rows = []
    for r, su in sorted(inp.startup.items()):
        q = max(1, su.times.size // 4)
        row = {"rate": r, "n_configs": su.n_configs, "p_slow_initial": su.p_slow, "strain_max": float(su.strain[-1])}
        for g in ("slow", "fast", "all"):
            s = getattr(su, f"stress_{g}")
            late = float(np.nanmean(s[-q:]))
            row[f"peak_{g}"] = float(np.nanmax(s))
            row[f"steady_{g}"] = late
            row[f"overshoot_{g}"] = float(np.nanmax(s) / late) if late > 0 else np.nan
            row[f"excess_{g}"] = float(np.nanmax(s) - late)
            row[f"peak_strain_{g}"] = float(su.strain[int(np.nanargmax(s))])
        rows.append(row)
    return pd.DataFrame(rows)


def _duality_table(inp: RheologyInputs, mod: RheologyModels) -> pd.DataFrame:
    """Eq. 5 per rate with bootstrap errors; no comparison at the rate whose η defines η_eq
    (``defines_eta_eq``: Eq. 5 there is η_eq times label ratios, a circular test)."""
    rows = []
    for r, d in sorted(mod.duality.items()):
        eta, sem = inp.eta_md.get(r, (np.nan, np.nan))
        circular = bool(r == inp.eta_eq_rate)
        err = mod.duality_err.get(r)
        se5 = err.eta_se if err is not None else np.nan
        comp = np.isfinite(eta) and not circular
        rows.append(
            {
                "rate": r,
                "eta_md": eta,
                "eta_md_sem": sem,
                "eta_eq5": d.eta,
                "eta_eq5_se": se5,
                "defines_eta_eq": circular,
                "rel_err": d.eta / eta - 1 if comp else np.nan,
                "z_dev": (d.eta - eta) / np.hypot(se5, sem) if comp and np.isfinite(se5) else np.nan,
                "sigma_slow": d.sigma_slow,
                "sigma_fast": d.sigma_fast,
                "p_slow": d.p_slow,
                "p_slow_se": err.p_slow_se if err is not None else np.nan,
                "tau_el": d.tau_el,
                "tau_sh_fast_mean": d.tau_sh_fast_mean,
                "tau_sh_slow_mean": d.tau_sh_slow_mean,
                "c_el": d.c_el,
                "w": mod.w.get(r, np.nan),
            }
        )
    return pd.DataFrame(rows)


def _slow_noise_table(mod: RheologyModels) -> pd.DataFrame:
    """Eq. 2 per rate next to its noise floor (mirrored condition) and the per-particle test."""
    cols = [
        "rate",
        "p_slow",
        "p_slow_se",
        "p_mirror",
        "p_mirror_se",
        "excess",
        "excess_se",
        "z_excess",
        "p_tested",
        "p_tested_se",
        "p_tested_mirror",
        "n_configs",
    ]
    return pd.DataFrame(
        [{k: v for k, v in sf.to_dict().items() if k in cols} for _, sf in sorted(mod.slow_noise.items())], columns=cols
    )


def _params_table(inp: RheologyInputs, mod: RheologyModels) -> pd.DataFrame:
    m = "measured"
    rows = [
        ("T", inp.temperature, m, "system temperature"),
        ("tau_2", inp.tau_2, m, "non-Gaussian time at equilibrium (Eq. 2)"),
        ("mean tau_LC,eq", float(np.mean(inp.tau_lc_eq)), m, "mean of H_eq(τ_LC) (KM restricted means, ≤ t_max)"),
        ("eta_eq", inp.eta_eq, m, inp.eta_eq_source),
        ("r_min", inp.r_min, m, "first minimum of the total g(r) of the equilibrium configurations"),
        ("Omega", inp.omega, m, "cage volume 4π r_min³/3 (Sec. V.A)"),
        ("t_str", inp.t_str, m, "ballistic 3T t²/m reaches the MSD plateau (Sec. III.C)"),
        ("Gamma^-1", inp.gamma_inv, m, "MSD enters the plateau (minimum of d ln MSD/d ln t)"),
        ("G_ini", inp.g_ini, m, inp.g_ini_source or "no start-up MD"),
        (
            "w",
            float(np.mean(list(mod.w.values()))) if mod.w else np.nan,
            m,
            "Eq. B3 from C̄_slow(t) of the start-up MD, mean over rates",
        ),
        ("G_eff", mod.g_eff, m, "w · G_ini (Eq. B3)"),
        ("gamma_res", mod.gamma_res, "fitted", "grid-cell restructuring strain, to the MD start-up σ_all(t)"),
    ]
    if mod.pel is not None:
        rows += [
            ("alpha", mod.pel.alpha, "fitted", f"PEL basin shape, to the binned τ_sh(τ_LC) (rms ln-residual {mod.pel_rms:.2f})"),
            ("E'_b", mod.e_b_peak, m, "most probable barrier of P_b (Eq. 14 on H_eq)"),
            ("gamma_ac,c", mod.gamma_ac_c, "model", f"95 % of P_ac at the lowest MD rate {GD} = {inp.rates.min():g} (Fig. 27)"),
        ]
    if inp.master is not None:
        mc = inp.master
        rows.append(
            (
                "master curve a, b, c, λ_τ",
                f"{mc.a:.3g}, {mc.b:.3g}, {mc.c:.3g}, {mc.lam:.3g}",
                "fitted",
                "Eq. 4 parameters from the per-rate Eq. 3 fits (τ_sh^th of the grid-cell model)",
            )
        )
    return pd.DataFrame(rows, columns=["parameter", "value", "kind", "how"])


def _fig_duality(inp: RheologyInputs, mod: RheologyModels, tab: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    ax.errorbar(tab.rate, tab.eta_md, yerr=tab.eta_md_sem, fmt="o", color="k", label="MD (Eq. 1)")
    ax.errorbar(
        tab.rate,
        tab.eta_eq5,
        yerr=tab.get("eta_eq5_se"),
        fmt="s--",
        color="C3",
        capsize=2,
        label="Eq. 5 (duality, bootstrap s.d.)",
    )
    circ = tab[tab.get("defines_eta_eq", False) == True]  # noqa: E712 - pandas mask
    if len(circ):
        ax.plot(circ.rate, circ.eta_eq5, "s", mfc="white", color="C3", ms=9, label="η_eq defined here")
    ax.set(xscale="log", yscale="log", xlabel=GD, ylabel="η")
    ax2 = ax.twinx()
    ax2.errorbar(tab.rate, tab.p_slow, yerr=tab.get("p_slow_se"), fmt="^:", color="C0", label="p_slow (Eq. 2)")
    noise = _slow_noise_table(mod)
    if len(noise):
        ax2.plot(noise.rate, noise.p_mirror, "v", color="C0", mfc="white", label="noise floor (D ≤ −τ_2)")
    ax2.set_ylabel("p_slow", color="C0")
    ax2.set_ylim(0, 1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower left")
    plain_log_ticks(ax)
    return fig


def _fig_neighbor(inp: RheologyInputs, mod: RheologyModels, pal: RatePalette):
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for r, su in sorted(inp.startup.items()):
        a.plot(su.phi, su.cbar_slow, "o-", ms=3, color=pal(r), label=rate_label(r))
    a.set(xlabel="φ(t) (fraction of particles jumped)", ylabel="C̄(t) of initially slow particles")
    a.legend()
    if mod.w:
        rs = sorted(mod.w)
        b.plot(rs, [mod.w[r] for r in rs], "o", color="k")
        b.axhline(np.mean(list(mod.w.values())), ls="--", color="0.5")
    b.set(xscale="log", xlabel=GD, ylabel="w = G_eff / G_ini (Eq. B3)", ylim=(0, 1.05))
    return fig


def _fig_startup(inp: RheologyInputs, mod: RheologyModels, pal: RatePalette):
    fig, axs = plt.subplots(1, 3, figsize=(13.5, 3.9))
    for r, su in sorted(inp.startup.items()):
        c = pal(r)
        gc = mod.gridcell.get(r)
        for ax, g, x in ((axs[0], "slow", su.strain), (axs[1], "fast", su.times), (axs[2], "all", su.strain)):
            ax.plot(
                x,
                getattr(su, f"stress_{g}"),
                "o",
                ms=2.5,
                color=c,
                label=f"{rate_label(r)} ({su.n_configs} conf.)" if g == "all" else None,
            )
            if gc is not None:
                ax.plot(x, getattr(gc, "stress" if g == "all" else f"stress_{g}"), "-", color=c, lw=1.3)
    axs[0].set(xlabel="γ = γ̇t", ylabel="σ of initially slow particles", title="slow (symbols MD, lines model)")
    axs[1].set(xlabel="t", ylabel="σ of initially fast particles", xscale="log", title="fast")
    axs[2].set(xlabel="γ = γ̇t", ylabel="σ of all particles", title="whole system")
    axs[2].legend()
    return fig


def _fig_pel_relation(inp: RheologyInputs, mod: RheologyModels, pal: RatePalette):
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    for r in inp.rates:
        rel = inp.binned[r]
        ax.errorbar(rel.tau_lc, rel.tau_sh, yerr=rel.sem, fmt="o", ms=3, color=pal(r), label=rate_label(r))
        x, y = mod.pel_curves[float(r)]
        ax.plot(x, y, "-", color=pal(r))
    lim = [min(rel.tau_lc.min() for rel in inp.binned.values()), max(rel.tau_lc.max() for rel in inp.binned.values())]
    ax.plot(lim, lim, "k-", lw=2, alpha=0.4, label="τ_sh = τ_LC")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="τ_LC",
        ylabel="τ_sh",
        title=f"PEL Eq. 18 (lines, α = {mod.pel.alpha:.3g}) vs MD (symbols)",
    )
    ax.legend(fontsize=7)
    plain_log_ticks(ax)
    return fig


def _fig_pel_f(inp: RheologyInputs, mod: RheologyModels, pal: RatePalette, p_slow_md: Mapping[float, float]):
    p = mod.pel
    e = mod.e_b_peak
    tau = float(p.gamma_inv * np.exp(e / p.temperature))
    t = np.concatenate([[0.0], np.geomspace(1e-3 * p.gamma_inv, 30 * tau, 3000)])
    fig, axs = plt.subplots(1, 4, figsize=(17, 3.8))
    for r in [0.0, *inp.rates]:
        f = jump_time_density(t, e, float(r), p)
        tb = float(mean_jump_time(np.array([e]), float(r), p)[0])
        c = pal(r) if r > 0 else "k"
        axs[0].plot(t, f, color=c, label=rate_label(r))
        axs[1].plot(t / tb, f / f.max(), color=c)
        axs[2].plot(t[1:], f[1:], color=c, lw=2.5 if r == 0 else 1.2)
    axs[0].set(xlabel="t", ylabel="f(t)", xlim=(0, 3 * tau), title=f"Eq. 17 at E'_b = {e:.2f}")
    axs[0].legend()
    axs[1].set(xlabel="t* = t / t̄", ylabel="f* = f / f_max", xlim=(0, 4))
    axs[2].set(xscale="log", yscale="log", xlabel="t", ylabel="f(t)", ylim=(1e-6 / tau, None))
    pt = mod.pel_tc
    for r in inp.rates:
        i = int(np.argmin(np.abs(np.log(pt["rate"] / r))))
        tc = pt["t_c"][i]
        if np.isfinite(tc):
            axs[2].plot([tc], [jump_time_density(np.array([0.0, tc]), e, float(r), p)[1]], "o", mfc="none", color=pal(r))
    axs[3].plot(pt["rate"], pt["p_slow"], "-", color="C3", label="p'_slow (PEL)")
    rs = sorted(p_slow_md)
    axs[3].plot(rs, [p_slow_md[r] for r in rs], "o", color="k", label="p_slow (MD, Eq. 2)")
    axs[3].set(xscale="log", xlabel=GD, ylabel="slow fraction", ylim=(0, 1.02))
    axs[3].legend(loc="upper left")
    ins = axs[3].inset_axes([0.6, 0.12, 0.37, 0.35])
    ins.loglog(pt["rate"], pt["t_c"], "o", ms=2, color="C3")
    ins.loglog(pt["rate"], pt["t_c"][len(pt["rate"]) // 2] * pt["rate"][len(pt["rate"]) // 2] / pt["rate"], "--", color="0.5")
    ins.set_title("t_c (-- ∝ 1/γ̇)", fontsize=7)
    ins.tick_params(labelsize=6)
    return fig


def _fig_distortion(inp: RheologyInputs, mod: RheologyModels, pal: RatePalette, n_peaks: int = 5):
    """Fig. 25: Y(r_k) per rate; |Y| at the first peaks of the highest-rate curve vs γ̇ with γ̄."""

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.9))
    for r, (rk, y) in sorted(inp.distortion.items()):
        a.plot(rk, y, color=pal(r), label=rate_label(r))
    a.axhline(0, color="0.7", lw=0.6)
    a.set(xlabel="r_k", ylabel="Y(r_k) (Eq. 26)", title="generation-2 g_2^-2, species-less")
    a.legend(fontsize=7)
    top = max(inp.distortion)
    rk, ytop = inp.distortion[top]
    pos, _ = distortion_peaks(rk, ytop, n_peaks)
    rates = [r for r in sorted(inp.distortion) if r > 0]
    gbar = {r: _sgr_at(mod, r).mean_strain for r in rates}
    rows = []
    for k, rp in enumerate(pos):
        i = int(np.argmin(np.abs(rk - rp)))
        mags = np.array([abs(inp.distortion[r][1][i]) for r in rates])
        scale = gbar[top] / mags[-1] if mags[-1] > 0 else np.nan
        b.plot(rates, mags * scale, "o", ms=4, label=f"peak {k + 1} (r = {rp:.2f})")
        rows += [
            {"peak": k + 1, "r": float(rp), "rate": r, "abs_Y": float(m), "scaled": float(m * scale)} for r, m in zip(rates, mags)
        ]
    b.plot(rates, [gbar[r] for r in rates], "k--", label="γ̄ (SGR Eq. 24)")
    b.set(xscale="log", yscale="log", xlabel=GD, ylabel="scaled |Y| peak, γ̄", title="Fig. 25c")
    b.legend(fontsize=7)
    return fig, pd.DataFrame(rows)


def _fig_sgr(
    inp: RheologyInputs, mod: RheologyModels, pal: RatePalette, p_slow_md: Mapping[float, float], tau_lc_md: Mapping[float, float]
):
    fig, axs = plt.subplots(1, 4, figsize=(17, 3.8))
    rs = mod.sgr_rates
    axs[0].plot(rs, [mod.sgr[float(r)].mean_strain for r in rs], "-", color="C3")
    axs[0].set(xscale="log", yscale="log", xlabel=GD, ylabel="γ̄ (Eq. 24)", title="SGR mean local strain")
    axs[1].plot(rs, [mod.sgr[float(r)].tau_lc_mean for r in rs], "-", color="C3", label="SGR Eq. 29")
    rr = sorted(tau_lc_md)
    x0 = rs[0]
    axs[1].plot([r if r > 0 else x0 for r in rr], [tau_lc_md[r] for r in rr], "o", color="k", label=f"MD (γ̇=0 plotted at {x0:g})")
    axs[1].set(xscale="log", xlabel=GD, ylabel="τ̄_LC", title="Fig. 26")
    axs[1].legend()
    for r in inp.rates:
        st = _sgr_at(mod, float(r))
        axs[2].plot(st.gamma, st.p_ac / st.p_ac.max(), color=pal(r), label=rate_label(r))
    axs[2].axvline(mod.gamma_ac_c, ls="--", color="0.5")
    axs[2].set(xlabel="γ_ac", ylabel="P_ac / max (Eq. 30)", xlim=(0, 1.5), title="Fig. 27a")
    axs[2].legend(fontsize=7)
    axs[3].plot(rs, [mod.sgr[float(r)].p_sd(mod.gamma_ac_c) for r in rs], "-", color="C3", label="p_sd (SGR Eq. 31)")
    pr = sorted(p_slow_md)
    axs[3].plot(pr, [p_slow_md[r] for r in pr], "o", color="k", label="p_slow (MD)")
    axs[3].set(xscale="log", xlabel=GD, ylabel="fraction", ylim=(0, 1.02), title="Fig. 27c")
    axs[3].legend(loc="upper left")
    return fig


def _sgr_at(mod: RheologyModels, rate: float) -> SGRSteadyState:
    """The constant-Ω steady state at ``rate`` (from the dense grid when it is there)."""
    return mod.sgr.get(rate) or sgr_steady_state(rate, mod.barriers, mod.pel)


def _sgr_eta_table(inp: RheologyInputs, mod: RheologyModels) -> tuple[pd.DataFrame, float]:
    ref = mod.sgr[float(mod.sgr_rates[0])].viscosity  # Newtonian limit of the model
    rows = []
    for r in inp.rates:
        eta, sem = inp.eta_md.get(float(r), (np.nan, np.nan))
        st = _sgr_at(mod, float(r))
        cor = mod.sgr_corrected[float(r)]
        # Eq. 32 as written: σ_SGR ∼ ∬ dE/dγ P_s with the same prefactor for every Ω (Fig. 29b)
        rows.append(
            {
                "rate": float(r),
                "eta_md_over_eta_eq": eta / inp.eta_eq,
                "sem": sem / inp.eta_eq,
                "eta_sgr_star": st.viscosity / ref,
                "omega_fit": mod.omega_fit[float(r)],
                "omega_fit_over_cage": mod.omega_fit[float(r)] / inp.omega,
                "eta_sgr_star_omega_fit": cor.viscosity / ref,
                "p_sd": st.p_sd(mod.gamma_ac_c),
                "tau_lc_sgr": st.tau_lc_mean,
                "tau_lc_md": float(np.nanmean(inp.labels[float(r)]["tau_lc"])),
            }
        )
    return pd.DataFrame(rows), ref


def _fig_sgr_eta(inp: RheologyInputs, mod: RheologyModels, tab: pd.DataFrame, ref: float):
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.6, 3.9))
    rs = mod.sgr_rates
    ax.plot(rs, [mod.sgr[float(r)].viscosity / ref for r in rs], "k--", label="SGR Eq. 32, Ω = cage")
    ax.plot(tab.rate, tab.eta_sgr_star_omega_fit, "s", color="C1", label="SGR with Ω(γ̇) of Eq. 34")
    ax.errorbar(tab.rate, tab.eta_md_over_eta_eq, yerr=tab["sem"], fmt="o", color="k", label="MD η/η_eq")
    ax.set(xscale="log", yscale="log", xlabel=GD, ylabel="η* = η/η_eq", title="Figs. 28, 29b")
    ax.legend(loc="lower left", fontsize=7)
    bx.plot(tab.rate, tab.omega_fit, "o", color="C3")
    bx.axhline(inp.omega, ls="--", color="0.5", label="cage volume")
    bx.set(xscale="log", xlabel=GD, ylabel="Ω (Eq. 34)", title="Fig. 29a inset")
    bx.legend()
    return fig


def section_rheology(rep: ReportWriter, ctx: Any, pal: RatePalette, acfg: AnalysisSpec | Mapping[str, Any] | None = None) -> None:
    """Write the rheology section (what cannot be made is listed under "Skipped")."""

    rep.h("5. Rheology: duality viscosity, grid-cell start-up, PEL and SGR (Sec. III, V, App. B)")
    runs = load_startup_runs(ctx.root)
    if not runs:
        rep.skip(
            "start-up MD figures (Figs. 15, 31) and G_ini/G_eff",
            f"no start-up runs under {ctx.root}/startup: run `python -m taulc.data.startup_runs "
            f"--root {ctx.root} --rates <rates>`",
        )
    rates = sorted({float(r) for r in ctx.rates})
    if 0.0 not in rates or len(rates) < 2:
        rep.skip("rheology section", "needs equilibrium (rate-0) shards and at least one sheared rate")
        return
    inp = rheology_inputs(ctx.root, ctx.manifest, ctx.shards, runs)
    if inp.master is None:
        rep.skip("grid-cell model (Fig. 15 lines)", "τ_sh^th needs the Eq. 4 master curve: Eq. 3 fits at >= 2 rates")
    if not np.isfinite(inp.eta_eq):
        rep.skip("Eq. 5 and η* comparisons", "the manifest has no MD viscosity (η_eq)")
    mod = run_models(inp)
    rep.p(
        "Measured inputs and fitted parameters (everything not marked *fitted* comes from MD of this "
        "dataset; each model has the paper's single free parameter):"
    )
    rep.table("rheology_parameters", _params_table(inp, mod), caption="Rheology inputs")
    dt = _duality_table(inp, mod)
    rep.figure(
        "rheology_duality_viscosity",
        _fig_duality(inp, mod, dt),
        "η from Eq. 5 (labels of each rate, G_eff from App. B) vs MD η (Eq. 1), and p_slow (Fig. 13).",
    )
    rep.table(
        "rheology_duality",
        dt,
        caption="Eq. 5 per rate (rel_err = η_Eq5/η_MD − 1, z_dev = deviation "
        "in combined standard errors; none at the rate that defines η_eq)",
    )
    if mod.slow_noise:
        nt = _slow_noise_table(mod)
        rep.table(
            "rheology_p_slow_noise",
            nt,
            caption="Eq. 2 under label noise: p_slow, the mirrored condition "
            "τ_LC − τ_sh ≤ −τ_2 (noise floor), their difference, and the per-particle replica-pair test "
            "(s.e. over configurations)",
        )
        rep.summary["rheology_p_slow_excess"] = dict(zip(nt.rate, nt.excess))
    ok = np.isfinite(dt.rel_err)
    rep.summary["rheology_duality_max_abs_rel_err"] = float(np.abs(dt.rel_err[ok]).max()) if ok.any() else None
    if inp.startup:
        rep.figure(
            "rheology_neighbor_keeping",
            _fig_neighbor(inp, mod, pal),
            "C̄(t) of the initially slow particles against the jumped fraction φ(t) during start-up, "
            "and w = G_eff/G_ini of Eq. B3 per rate (Fig. 31).",
        )
        ot = overshoot_table(inp)
        rep.figure(
            "rheology_startup",
            _fig_startup(inp, mod, pal),
            f"Start-up stress of initially slow, initially fast and all particles: MD (symbols; Eq. 4 of "
            f"Zeng et al. over the per-particle stresses) and the grid-cell model (lines, γ_res = "
            f"{mod.gamma_res:.3g} fitted to the whole-system curves) (Fig. 15).",
        )
        rep.table("rheology_startup_overshoot", ot, caption="MD start-up: peak / late-time stress per group")
        rep.summary["rheology_overshoot_slow"] = dict(zip(ot.rate, ot.overshoot_slow))
    rep.summary["rheology"] = {
        "g_ini": inp.g_ini,
        "g_eff": mod.g_eff,
        "gamma_res": mod.gamma_res,
        "eta_eq": inp.eta_eq,
        "duality": dt.to_dict(orient="records"),
    }
    if mod.pel is None:
        rep.skip("PEL and SGR figures (Figs. 23-29)", "G = G_eff needs G_ini from the start-up MD")
        return
    rep.summary["rheology"]["alpha"] = mod.pel.alpha
    p_slow_md = {r: float(np.mean(d["slow"])) for r, d in inp.labels.items()}
    rep.figure(
        "rheology_pel_relation",
        _fig_pel_relation(inp, mod, pal),
        "τ_sh(τ_LC): PEL model Eq. 18 (lines) vs binned MD labels (symbols) (Fig. 23).",
    )
    rep.figure(
        "rheology_pel_f",
        _fig_pel_f(inp, mod, pal, p_slow_md),
        "PEL jump-time density f(t) (Eq. 17) at the most probable barrier: linear, rescaled, log-log with "
        "t_c (circles), and p'_slow vs γ̇ against MD p_slow; inset t_c ∝ 1/γ̇ (Fig. 24).",
    )
    tau_lc_md = {0.0: float(np.nanmean(inp.tau_lc_eq)), **{r: float(np.nanmean(d["tau_lc"])) for r, d in inp.labels.items()}}
    rep.figure(
        "rheology_sgr",
        _fig_sgr(inp, mod, pal, p_slow_md, tau_lc_md),
        "SGR steady state: mean local strain γ̄ (Eq. 24, Fig. 25c without Y(r)), τ̄_LC(γ̇) vs MD "
        "(Eq. 29, Fig. 26), P_ac(γ_ac) (Eq. 30) and p_sd vs MD p_slow (Eq. 31, Fig. 27).",
    )
    if inp.distortion:
        fig, ytab = _fig_distortion(inp, mod, pal)
        rep.figure(
            "rheology_distortion",
            fig,
            "Structural distortion Y(r_k) (Eq. 25-26) per rate and the "
            "magnitudes of its first peaks (scaled to γ̄ at the highest rate) against the SGR mean local "
            "strain γ̄ (Eq. 24) (Fig. 25).",
        )
        rep.table("rheology_distortion_peaks", ytab, show=False, caption="|Y| at the peaks per rate")
    st, ref = _sgr_eta_table(inp, mod)
    rep.figure(
        "rheology_sgr_viscosity",
        _fig_sgr_eta(inp, mod, st, ref),
        "Normalised viscosity: SGR Eq. 32 with the cage volume Ω and with Ω(γ̇) from Eq. 34, against MD η/η_eq (Figs. 28-29).",
    )
    rep.table("rheology_sgr", st, caption="SGR per MD rate (η* normalised by the model's Newtonian limit)")


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    section_rheology(rep, inp.ctx, inp.pal, inp.acfg)
    return True
