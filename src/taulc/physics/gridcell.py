"""Grid-cell model of start-up shear (Yu, Zeng & Wang 2025, Sec. III.C, Eq. 7-8, Figs. 14-15).

Independent cells (an LER or a liquid-like region each; no elastic interaction
between cells) cycle through loading and yielding:

1. draw τ_LC from the equilibrium spectrum H_eq(τ_LC) (resampling the measured values);
   slow if τ_LC − τ_sh(τ_LC) ≥ τ_2 (Eq. 2) with τ_sh(τ_LC) of Eq. 4 at the rate, else fast
   (the paper classifies the cell on its τ_LC, before the thermal draw);
2. thermal jump time τ_LC^th ~ Exp(mean τ_LC) (Eq. 7); τ_sh^th = τ_sh(τ_LC^th) from the
   τ_sh(τ_LC) relation at the rate (Eq. 3 with the Eq. 4 master-curve parameters);
3. the class of step 1 decides the cycle, τ_sh^th its duration;
4. loading σ = σ_0 e^{−(t−t_0)/t_str} + G_eff γ̇ (t − t_0) for c_el τ_sh^th (slow, Eq. 8)
   or τ_sh^th (fast: the averaged cage distortion – cage jump, Fig. 14c);
5. yielding: exponential unloading σ_p e^{−(t−t_y)/t_str}; slow cells restructure for
   τ_res ~ Exp(mean γ_res/γ̇) before the next cycle, fast cells reload at once;
6. the next cycle draws a new τ_LC from H_eq.

The system stress is the cell average; the "slow" / "fast" curves average the cells
by their class in the first cycle (as Fig. 15 classifies particles at the start of
shear).  The only free parameter is γ_res (:func:`fit_gamma_res`).  The simulation is
event driven and vectorised over cells: each pass of the loop advances every cell whose
current stage has ended.  With fast cells only, t_str → 0 and a single τ_f the mean
stress is exactly the Maxwell start-up G_eff γ̇ τ_f (1 − e^{−t/τ_f}).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

__all__ = ["GridCellParams", "GridCellResult", "simulate_grid_cells", "fit_gamma_res"]

TauMap = Callable[[np.ndarray], np.ndarray]


@dataclass
class GridCellParams:
    """Inputs of the grid-cell model at one rate (all measured except ``gamma_res``).

    Attributes:
        rate: γ̇.
        tau_lc_eq: samples of the equilibrium τ_LC spectrum H_eq (finite, > 0).
        tau_sh_of_lc: τ_sh(τ_LC) at this rate (vectorised callable).
        tau_2: Eq. 2 threshold (non-Gaussian time at equilibrium).
        g_eff: effective modulus (App. B).
        c_el: Eq. 8 ratio τ_el / τ̄_sh,slow.
        t_str: unloading (ballistic) time.
        gamma_res: restructuring strain (the free parameter).
        thermal: draw τ_LC^th from Eq. 7 (False: τ_LC^th = τ_LC, for tests).
    """

    rate: float
    tau_lc_eq: np.ndarray
    tau_sh_of_lc: TauMap
    tau_2: float
    g_eff: float
    c_el: float
    t_str: float
    gamma_res: float
    thermal: bool = True


@dataclass
class GridCellResult:
    """Mean stress on ``times`` of all cells and of the initially slow / fast cells."""

    times: np.ndarray
    stress: np.ndarray
    stress_slow: np.ndarray
    stress_fast: np.ndarray
    p_slow_initial: float
    rate: float

    @property
    def strain(self) -> np.ndarray:
        return self.times * self.rate


def _draw(p: GridCellParams, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(loading duration, is_slow) of ``n`` new cycles."""
    tau = rng.choice(p.tau_lc_eq, size=n)
    slow = tau - np.asarray(p.tau_sh_of_lc(tau), dtype=np.float64) >= p.tau_2  # Eq. 2 on the cell's τ_LC
    th = rng.exponential(tau) if p.thermal else tau
    sh = np.asarray(p.tau_sh_of_lc(th), dtype=np.float64)
    return np.where(slow, p.c_el * sh, sh), slow


def simulate_grid_cells(
    p: GridCellParams, times: np.ndarray, n_cells: int = 20000, seed: int = 0, max_passes: int = 100000
) -> GridCellResult:
    """Mean start-up stress of ``n_cells`` independent cells on ``times`` (t ≥ 0, increasing)."""
    t_out = np.asarray(times, dtype=np.float64)
    if t_out.ndim != 1 or np.any(np.diff(t_out) < 0) or t_out[0] < 0:
        raise ValueError("times must be a non-decreasing 1-D array of t >= 0")
    if p.rate <= 0 or p.g_eff <= 0 or p.t_str < 0 or p.gamma_res < 0:
        raise ValueError("grid-cell model needs rate > 0, g_eff > 0, t_str >= 0, gamma_res >= 0")
    tl = np.asarray(p.tau_lc_eq, dtype=np.float64)
    tl = tl[np.isfinite(tl) & (tl > 0)]
    if tl.size == 0:
        raise ValueError("tau_lc_eq has no finite positive values")
    p = GridCellParams(**{**p.__dict__, "tau_lc_eq": tl})
    rng = np.random.default_rng(seed)
    k = p.g_eff * p.rate
    # cell state: stage 0 = loading from (t0, s0) until t_end; stage 1 = unloading from (t0, s0)
    dur, slow0 = _draw(p, rng, n_cells)
    slow_cur = slow0.copy()
    stage = np.zeros(n_cells, dtype=np.int8)
    t0 = np.zeros(n_cells)
    s0 = np.zeros(n_cells)
    t_end = dur.copy()
    out = np.empty((t_out.size, n_cells))
    every = np.arange(n_cells)

    passes = 0
    for it, t in enumerate(t_out):
        while True:
            due = np.nonzero(t_end <= t)[0]
            if due.size == 0:
                break
            passes += 1
            if passes > max_passes:
                raise RuntimeError("grid-cell model: too many stage changes (check the inputs)")
            te = t_end[due]
            s_at = value_at(te, due, stage, t0, s0, k, p.t_str)
            load = stage[due] == 0
            # loading ends -> unloading (slow: restructuring time; fast: reload at once)
            li = due[load]
            if li.size:
                res = np.where(slow_cur[li], rng.exponential(p.gamma_res / p.rate, li.size) if p.gamma_res > 0 else 0.0, 0.0)
                stage[li], t0[li], s0[li] = 1, te[load], s_at[load]
                t_end[li] = te[load] + res
            # unloading/restructuring ends -> new cycle, loading from the residual stress
            ui = due[~load]
            if ui.size:
                d, sl = _draw(p, rng, ui.size)
                stage[ui], t0[ui], s0[ui] = 0, te[~load], s_at[~load]
                t_end[ui] = te[~load] + d
                slow_cur[ui] = sl
        out[it] = value_at(np.full(n_cells, t), every, stage, t0, s0, k, p.t_str)
    mean = out.mean(axis=1)
    res = GridCellResult(
        times=t_out,
        stress=mean,
        stress_slow=out[:, slow0].mean(axis=1) if slow0.any() else np.full(t_out.size, np.nan),
        stress_fast=out[:, ~slow0].mean(axis=1) if (~slow0).any() else np.full(t_out.size, np.nan),
        p_slow_initial=float(slow0.mean()),
        rate=float(p.rate),
    )
    return res


def value_at(
    t: np.ndarray, idx: np.ndarray, stage: np.ndarray, t0: np.ndarray, s0: np.ndarray, k: float, t_str: float
) -> np.ndarray:
    """Stress of cells ``idx`` at their own times ``t`` (end of the current stage)."""
    dt = t - t0[idx]
    decay = np.exp(-dt / t_str) if t_str > 0 else (dt <= 0).astype(float)
    return np.where(stage[idx] == 0, s0[idx] * decay + k * dt, s0[idx] * decay)


def fit_gamma_res(
    make_params: Callable[[float, float], GridCellParams],
    rates: Sequence[float],
    md_times: Sequence[np.ndarray],
    md_stress: Sequence[np.ndarray],
    bounds: tuple[float, float] = (1e-3, 3.0),
    n_cells: int = 5000,
    seed: int = 0,
) -> tuple[float, float]:
    """Fit γ_res to MD start-up curves of the whole system at several rates.

    Minimises Σ_rates mean((σ_model − σ_MD)²)/mean(σ_MD²) over ln γ_res (bounded), with
    common random numbers (fixed ``seed``) so the objective is smooth.
    ``make_params(rate, gamma_res)`` returns the model parameters at a rate.
    Returns ``(γ_res, objective)``.
    """

    def loss(lg: float) -> float:
        tot = 0.0
        for r, t, s in zip(rates, md_times, md_stress):
            m = simulate_grid_cells(make_params(r, float(np.exp(lg))), np.asarray(t), n_cells, seed)
            s = np.asarray(s)
            tot += float(np.mean((m.stress - s) ** 2) / max(np.mean(s**2), 1e-30))
        return tot

    r = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded", options={"xatol": 0.02})
    return float(np.exp(r.x)), float(r.fun)
