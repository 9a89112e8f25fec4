"""Dataset-level rheology analysis: the measured inputs and every model of the core paper's
Sec. III and V evaluated on one dataset (Yu, Zeng & Wang 2025, Figs. 13-15, 23-29, 31).

:func:`rheology_inputs` collects what is *measured* (H_eq(τ_LC), τ_2, T, g(r) minimum → Ω,
MSD → t_str and Γ⁻¹, η_eq, per-rate labels, Eq. 3/4 fits, start-up MD curves, C̄(t), φ(t),
G_ini); :func:`run_models` evaluates the duality viscosity, the grid-cell start-up model, PEL
and SGR and fits their free parameters (γ_res, α, Ω(γ̇)).  Figures live in
:mod:`taulc.analysis.sections.rheology`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq

from taulc.dynamics.relation import bin_relation, boundary_tau_lc, eq3, fit_eq3, fit_master_curve
from taulc.dynamics.slowfast import SlowFraction, slow_fraction
from taulc.md.atomic_stress import region_stress
from taulc.physics.duality import (
    DualityResult,
    DualityUncertainty,
    duality_bootstrap,
    duality_from_labels,
    tau_el_from_spectrum,
    weakening_factor,
)
from taulc.physics.gridcell import GridCellParams, GridCellResult, fit_gamma_res, simulate_grid_cells
from taulc.physics.measured import (
    cage_volume,
    gr_first_minimum,
    msd_timescales,
    pair_distribution,
    structural_distortion,
)
from taulc.physics.pel import PELParams, barrier_from_tau, deviation_time, fit_alpha, mean_jump_time
from taulc.physics.sgr import (
    BarrierDensity,
    SGRSteadyState,
    activation_cutoff,
    barrier_density,
    fit_omega,
    sgr_steady_state,
)

log = logging.getLogger(__name__)

__all__ = ["StartupCurves", "RheologyInputs", "RheologyModels", "rheology_inputs", "run_models"]


@dataclass
class StartupCurves:
    """MD start-up at one rate, averaged over configurations (and their replicas)."""

    rate: float
    times: np.ndarray
    stress_all: np.ndarray
    stress_slow: np.ndarray
    stress_fast: np.ndarray
    p_slow: float  # fraction of initially slow particles (Eq. 2 via the Eq. 3 fit)
    c_times: np.ndarray
    cbar_slow: np.ndarray  # C̄(t) of the initially slow particles (App. B)
    phi: np.ndarray  # fraction of all particles jumped by c_times (App. B, Fig. 31)
    n_configs: int
    g_ini: float  # initial slope dσ_slow/dγ

    @property
    def strain(self) -> np.ndarray:
        return self.rate * self.times


@dataclass
class RheologyInputs:
    """Everything measured on the dataset (no model parameter fitted here)."""

    temperature: float
    tau_2: float
    tau_lc_eq: np.ndarray
    r_min: float
    omega: float
    t_str: float
    gamma_inv: float
    eta_eq: float
    eta_eq_source: str
    rates: np.ndarray  # sheared rates with labels
    labels: dict[float, dict[str, np.ndarray]]  # rate -> tau_lc, tau_sh, slow (all particles)
    eta_md: dict[float, tuple[float, float]]  # rate -> (η, sem) from the manifest
    eq3: dict[float, tuple[float, float]]  # rate -> (τ_sh^∞, τ_0)
    binned: dict[float, Any]
    master: Any
    startup: dict[float, StartupCurves] = field(default_factory=dict)
    distortion: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # Y(r), Eq. 26
    g_ini: float = float("nan")
    g_ini_source: str = ""
    eta_eq_rate: float = float("nan")  # the rate whose Eq. 1 η defines η_eq
    eta_eq_sem: float = float("nan")
    t_max: float = float("nan")  # label horizon (censoring time of every replica)
    # per-replica first-jump times, one (R, N) array per configuration: rate -> (lc list, sh list)
    replicas: dict[float, tuple[list[np.ndarray], list[np.ndarray]]] = field(default_factory=dict)
    replicas_eq: list[np.ndarray] = field(default_factory=list)  # rate-0 first_jump_lc per configuration

    def tau_sh_map(self, rate: float):
        """τ_sh(τ_LC) at ``rate`` from the Eq. 4 master curve (Eq. 3 with τ_0 = a/γ̇ + b,
        τ_sh^∞ = c γ̇^-λ)."""
        mc = self.master
        t0, tinf = mc.a / rate + mc.b, mc.c * rate ** (-mc.lam)
        return lambda x: eq3(x, tinf, t0)

    def boundary(self, rate: float) -> float:
        """τ_LC,c at ``rate`` (Eq. 2 on the Eq. 3 fit of this rate, else on the master curve)."""
        if rate in self.binned and self.eq3.get(rate):
            return boundary_tau_lc(self.binned[rate], self.tau_2, fit=self.eq3[rate])

        f = self.tau_sh_map(rate)

        def g(v: float) -> float:
            return v - f(v) - self.tau_2

        hi = 10 * self.tau_2
        while g(hi) <= 0 and hi < 1e9:
            hi *= 2
        return float(brentq(g, 0.0, hi)) if g(hi) > 0 else float("inf")


def _eta_eq(man: Mapping[str, Any]) -> tuple[float, str, dict[float, tuple[float, float]]]:
    eta = {
        float(v["rate"]): (float(v["eta"]), float(v.get("eta_sem", np.nan)))
        for v in man.get("rates", {}).values()
        if v.get("eta") is not None and float(v["rate"]) > 0
    }
    if not eta:
        return float("nan"), "no viscosity in the manifest", eta
    r0 = min(eta)
    return eta[r0][0], f"Newtonian plateau: η(γ̇ = {r0:g}) from Eq. 1 (lowest sheared rate)", eta


def _startup_curves(
    runs: Sequence[Mapping[str, np.ndarray]], eq_tau: Mapping[int, np.ndarray], rate: float, tau_c: float, g_fit_strain: float
) -> StartupCurves:
    s_all, s_slow, s_fast, cb, ph, ps = [], [], [], [], [], []
    for a in runs:
        tl = eq_tau[int(a["config_index"])]
        slow = tl >= tau_c
        st = a["atom_stress"].astype(np.float64)
        om = a["omega"]
        s_all.append(a["stress"].mean(axis=0))
        s_slow.append(region_stress(st, om, slow) if slow.any() else np.full(st.shape[0], np.nan))
        s_fast.append(region_stress(st, om, ~slow) if (~slow).any() else np.full(st.shape[0], np.nan))
        ct = a["frame_times"][a["keep_frames"]]
        cb.append(np.nanmean(a["neighbor_keeping"][:, slow], axis=1) if slow.any() else np.full(ct.size, np.nan))
        fj = a["first_jump"]
        ph.append(np.mean(fj[:, None, :] <= ct[None, :, None], axis=(0, 2)))
        ps.append(slow.mean())
    t = runs[0]["times"]
    stress_slow = np.nanmean(s_slow, axis=0)
    strain = rate * t
    m = (strain > 0) & (strain <= g_fit_strain * (1 + 1e-9)) & np.isfinite(stress_slow)
    g_ini = float(np.polyfit(strain[m], stress_slow[m], 1)[0]) if m.sum() >= 3 else float("nan")
    return StartupCurves(
        rate=rate,
        times=t,
        stress_all=np.mean(s_all, axis=0),
        stress_slow=stress_slow,
        stress_fast=np.nanmean(s_fast, axis=0),
        p_slow=float(np.mean(ps)),
        c_times=runs[0]["frame_times"][runs[0]["keep_frames"]],
        cbar_slow=np.nanmean(cb, axis=0),
        phi=np.mean(ph, axis=0),
        n_configs=len(runs),
        g_ini=g_ini,
    )


def rheology_inputs(
    root: Path,
    manifest: Mapping[str, Any],
    shards: Sequence[Mapping[str, np.ndarray]],
    startup_runs: Mapping[float, Sequence[Mapping[str, np.ndarray]]] | None = None,
    n_bins: int = 20,
    min_count: int = 5,
    g_fit_strain: float = 0.04,
    distortion: bool = True,
) -> RheologyInputs:
    """Measure the models' inputs on a dataset (shards with τ_LC, τ_sh, slow, positions, cell,
    in the order of ``manifest['shards']``).

    G_ini is the initial slope dσ_slow/dγ of the slow-particle MD start-up stress (least-squares
    line over the frames with 0 < γ ≤ ``g_fit_strain``; the intercept absorbs the thermal
    stress of the first frames), taken at the highest start-up rate (the least relaxed during the
    fit window).  ``distortion`` also computes Y(r_k) (Eq. 25-26) of every configuration.
    """
    man = manifest
    temp = float(man["config"]["system"]["temperature"])
    mass = float(man["config"]["system"].get("mass", 1.0))
    ref = man["reference"]
    tau_2 = float(ref["tau_2"])
    eq = [s for s in shards if float(s["rate"]) == 0.0]
    if not eq:
        raise ValueError(f"{root}: no rate-0 shards: the rheology models need H_eq(τ_LC)")
    tau_lc_eq = np.concatenate([np.asarray(s["tau_lc"], dtype=np.float64) for s in eq])
    r_min = gr_first_minimum(pair_distribution([np.asarray(s["positions"]) for s in eq], [np.asarray(s["cell"]) for s in eq]))
    sc = msd_timescales(np.asarray(ref["curves"]["t"]), np.asarray(ref["curves"]["msd"]), temp, mass)
    eta_eq, eta_src, eta_md = _eta_eq(man)
    labels: dict[float, dict[str, np.ndarray]] = {}
    replicas: dict[float, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    has_replicas = all("first_jump_lc" in s and "first_jump_sh" in s for s in shards)
    for s in shards:
        r = float(s["rate"])
        if r <= 0:
            continue
        d = labels.setdefault(r, {"tau_lc": [], "tau_sh": [], "slow": []})
        for k in d:
            d[k].append(np.asarray(s[k]))
        if has_replicas:
            lc_list, sh_list = replicas.setdefault(r, ([], []))
            lc_list.append(np.asarray(s["first_jump_lc"], dtype=np.float64))
            sh_list.append(np.asarray(s["first_jump_sh"], dtype=np.float64))
    labels = {r: {k: np.concatenate(v) for k, v in d.items()} for r, d in sorted(labels.items())}
    binned, fits = {}, {}
    for r, d in labels.items():
        rel = bin_relation(d["tau_lc"], d["tau_sh"], n_bins=n_bins, min_count=min_count)
        binned[r] = rel
        try:
            tinf, t0, _ = fit_eq3(rel)
            fits[r] = (tinf, t0)
        except (RuntimeError, ValueError) as exc:
            log.warning("Eq. 3 fit failed at rate %g: %s", r, exc)
    master = fit_master_curve(fits) if len(fits) >= 2 else None
    inp = RheologyInputs(
        temperature=temp,
        tau_2=tau_2,
        tau_lc_eq=tau_lc_eq,
        r_min=r_min,
        omega=cage_volume(r_min),
        t_str=sc.t_str,
        gamma_inv=sc.gamma_inv,
        eta_eq=eta_eq,
        eta_eq_source=eta_src,
        rates=np.array(sorted(labels)),
        labels=labels,
        eta_md=eta_md,
        eq3=fits,
        binned=binned,
        master=master,
    )
    if eta_md:
        inp.eta_eq_rate = min(eta_md)
        inp.eta_eq_sem = eta_md[inp.eta_eq_rate][1]
    if has_replicas and "t_max" in shards[0]:
        inp.t_max = float(np.asarray(shards[0]["t_max"]))
        inp.replicas = {r: replicas[r] for r in sorted(replicas)}
        inp.replicas_eq = [np.asarray(s["first_jump_lc"], dtype=np.float64) for s in eq]
    if distortion:
        ys: dict[float, list[np.ndarray]] = {}
        for sh in shards:
            r_k, y = structural_distortion(np.asarray(sh["positions"]), np.asarray(sh["cell"]))
            ys.setdefault(float(sh["rate"]), []).append(y)
        inp.distortion = {r: (r_k, np.mean(v, axis=0)) for r, v in sorted(ys.items())}
    if startup_runs:
        eq_tau = {
            int(e["config_index"]): np.asarray(s["tau_lc"], dtype=np.float64)
            for e, s in zip(man["shards"], shards)
            if float(s["rate"]) == 0.0
        }
        for r, runs in sorted(startup_runs.items()):
            runs = [a for a in runs if int(a["config_index"]) in eq_tau]
            if not runs:
                continue
            inp.startup[r] = _startup_curves(runs, eq_tau, r, inp.boundary(r), g_fit_strain)
        top = max(inp.startup)
        inp.g_ini = inp.startup[top].g_ini
        inp.g_ini_source = (
            f"initial slope dσ_slow/dγ of the slow-particle MD start-up stress at "
            f"γ̇ = {top:g} (line over 0 < γ ≤ {g_fit_strain:g})"
        )
    return inp


@dataclass
class RheologyModels:
    """Model results on one dataset, with the fitted free parameters."""

    duality: dict[float, DualityResult]
    w: dict[float, float]
    tau_el: dict[float, float]
    g_eff: float
    gridcell: dict[float, GridCellResult]
    gamma_res: float
    slow_noise: dict[float, SlowFraction] = field(default_factory=dict)  # Eq. 2 noise floor
    duality_err: dict[float, DualityUncertainty] = field(default_factory=dict)  # Eq. 5 ± bootstrap
    pel: PELParams | None = None  # None: no G_eff (no start-up MD) -> PEL/SGR not evaluated
    pel_rms: float = float("nan")
    pel_curves: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    pel_tc: dict[str, np.ndarray] = field(default_factory=dict)
    e_b_peak: float = float("nan")
    barriers: BarrierDensity | None = None
    sgr: dict[float, SGRSteadyState] = field(default_factory=dict)
    sgr_rates: np.ndarray | None = None
    gamma_ac_c: float = float("nan")
    omega_fit: dict[float, float] = field(default_factory=dict)
    sgr_corrected: dict[float, SGRSteadyState] = field(default_factory=dict)


def run_models(inp: RheologyInputs, dense_rates: np.ndarray | None = None, n_cells: int = 20000, seed: int = 0) -> RheologyModels:
    """Evaluate Eq. 5, the grid-cell model, PEL and SGR with the measured inputs; fit γ_res
    (grid cells, to the MD system start-up curves), α (PEL, to the binned τ_sh(τ_LC)) and Ω(γ̇)
    (Eq. 34, to τ̄_sh per rate)."""
    rates = inp.rates
    dense = np.geomspace(1e-5, 0.3, 23) if dense_rates is None else np.asarray(dense_rates)
    # --- App. B: τ_el per rate, w from C̄_slow(t) of the start-up runs, G_eff = mean w · G_ini
    tau_el = {
        r: tau_el_from_spectrum(d["tau_sh"][d["slow"].astype(bool)]) if d["slow"].any() else np.nan for r, d in inp.labels.items()
    }
    w = {}
    for r, su in inp.startup.items():
        te = tau_el.get(r, np.nan)
        if np.isfinite(te) and su.c_times[0] <= te <= su.c_times[-1]:
            w[r] = weakening_factor(su.c_times, su.cbar_slow, te)
    w_mean = float(np.mean(list(w.values()))) if w else 1.0
    g_eff = w_mean * inp.g_ini if np.isfinite(inp.g_ini) else float("nan")
    # --- Eq. 5
    duality = {r: duality_from_labels(r, d["tau_sh"], d["slow"], inp.tau_lc_eq, inp.eta_eq, g_eff) for r, d in inp.labels.items()}
    # --- Eq. 2 under label noise and Eq. 5 with its uncertainty (needs the per-replica jump times)
    slow_noise: dict[float, SlowFraction] = {}
    duality_err: dict[float, DualityUncertainty] = {}
    if inp.replicas and np.isfinite(inp.t_max):
        for r, (lc, sh) in inp.replicas.items():
            slow_noise[r] = slow_fraction(lc, sh, inp.t_max, inp.tau_2, rate=r)
            if inp.replicas_eq and np.isfinite(inp.eta_eq):
                duality_err[r] = duality_bootstrap(
                    r, lc, sh, inp.replicas_eq, inp.t_max, inp.tau_2, inp.eta_eq, inp.eta_eq_sem, g_eff, seed=seed
                )
    # --- grid cells: c_el = τ_el / τ̄_sh,slow (Eq. 8) per rate; γ_res fitted
    gridcell: dict[float, GridCellResult] = {}
    gamma_res = float("nan")
    su_rates = [r for r in sorted(inp.startup) if r in duality and inp.master is not None]
    if su_rates and np.isfinite(g_eff):

        def c_el(r: float) -> float:
            c = duality[r].c_el
            return c if np.isfinite(c) else 1.0

        def make(r: float, gres: float) -> GridCellParams:
            return GridCellParams(
                rate=r,
                tau_lc_eq=inp.tau_lc_eq,
                tau_sh_of_lc=inp.tau_sh_map(r),
                tau_2=inp.tau_2,
                g_eff=g_eff,
                c_el=c_el(r),
                t_str=inp.t_str,
                gamma_res=gres,
            )

        gamma_res, _ = fit_gamma_res(
            make,
            su_rates,
            [inp.startup[r].times for r in su_rates],
            [inp.startup[r].stress_all for r in su_rates],
            n_cells=4000,
            seed=seed,
        )
        gridcell = {r: simulate_grid_cells(make(r, gamma_res), inp.startup[r].times, n_cells, seed) for r in su_rates}
    # --- PEL and SGR need G = G_eff (start-up MD); without it they are not evaluated
    measured: dict[str, Any] = dict(
        duality=duality,
        w=w,
        tau_el=tau_el,
        g_eff=g_eff,
        gridcell=gridcell,
        gamma_res=gamma_res,
        slow_noise=slow_noise,
        duality_err=duality_err,
    )
    if not np.isfinite(g_eff):
        return RheologyModels(**measured)
    base = PELParams(gamma_inv=inp.gamma_inv, g=g_eff, omega=inp.omega, temperature=inp.temperature)
    alpha, rms = fit_alpha(
        [inp.binned[r].tau_lc for r in rates],
        [inp.binned[r].tau_sh for r in rates],
        list(rates),
        lambda a: replace(base, alpha=a),
    )
    pel = replace(base, alpha=alpha)
    pel_curves = {}
    for r in rates:
        x = np.geomspace(max(inp.binned[r].tau_lc.min(), 1.01 * pel.gamma_inv), inp.binned[r].tau_lc.max(), 40)
        pel_curves[float(r)] = (x, mean_jump_time(barrier_from_tau(x, pel), float(r), pel, n_grid=1500))
    bd = barrier_density(inp.tau_lc_eq, pel)
    e_peak = float(bd.e_b[np.argmax(bd.p_b)])
    tc = np.array([deviation_time(e_peak, float(r), pel) for r in dense])
    # --- SGR steady states (dense rates for the curves) and Ω(γ̇) of Eq. 34 at the MD rates
    sgr = {float(r): sgr_steady_state(float(r), bd, pel) for r in dense}
    gac = activation_cutoff(sgr_steady_state(float(rates.min()), bd, pel))  # lowest MD rate (Fig. 27)
    omega_fit, corrected = {}, {}
    for r, d in inp.labels.items():
        om = fit_omega(r, float(np.nanmean(d["tau_sh"])), bd, pel)
        omega_fit[r] = om
        corrected[r] = sgr_steady_state(r, bd, replace(pel, omega=om))
    return RheologyModels(
        **measured,
        pel=pel,
        pel_rms=rms,
        pel_curves=pel_curves,
        pel_tc={"rate": dense, "t_c": tc[:, 0], "p_slow": tc[:, 1]},
        e_b_peak=e_peak,
        barriers=bd,
        sgr=sgr,
        sgr_rates=dense,
        gamma_ac_c=gac,
        omega_fit=omega_fit,
        sgr_corrected=corrected,
    )
