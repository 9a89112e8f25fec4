"""Soft-glass-rheology (SGR) steady state on the particle-level PEL (Yu, Zeng & Wang 2025,
Sec. V.B-C, Eq. 19-34; Sollich et al. 1997).

Barrier density of new basins (Eq. 21) from the equilibrium barrier distribution P_b
(Eq. 14 applied to H_eq(τ_LC)):  ρ(E_b) ∝ P_b(E_b) e^{−E_b/T}.  The steady state of Eq. 19 is

    P_s(γ, E_b) ∝ ρ(E_b) exp[−(1/g(E_b)) ∫_0^γ e^{E(γ')/T} dγ'],  g(E_b) = γ̇ e^{E_b/T}/Γ   (Eq. 27)

normalised over (γ, E_b).  From it (E(γ) of Eq. 16, :mod:`taulc.physics.pel`):

* P_s(γ) and the mean local strain γ̄ (Eq. 23-24);
* τ̄_LC = ⟨Γ⁻¹ e^{(E_b − E(γ))/T}⟩ (Eq. 28-29);
* the activation-strain distribution P_ac(γ_ac) = ∫ g⁻¹ e^{E(γ_ac)/T} P_s dE_b (Eq. 30) and the
  shear-driven fraction p_sd = ∫_{γ_ac,c}^∞ P_ac (Eq. 31);
* σ_SGR = ∬ dE/dγ P_s (Eq. 32) and η_SGR = σ_SGR/γ̇ (normalised by its γ̇ → 0 limit);
* t̄(γ̇) = ∫ P_b t̄(E_b, γ̇) dE_b (Eq. 33) and Ω(γ̇) from min_Ω |τ̄_sh − t̄| (Eq. 34).

Everything is evaluated on an (E_b, γ) grid: E_b from the measured barriers, γ log-spaced
from far below the smallest thermal strain γ̇ Γ⁻¹ to beyond the largest basin edge γ_b.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize_scalar

from taulc.physics.pel import (
    PELParams,
    barrier_from_tau,
    basin_shape,
    deformation_energy,
    deformation_slope,
    mean_jump_time,
)

__all__ = [
    "BarrierDensity",
    "barrier_density",
    "SGRSteadyState",
    "sgr_steady_state",
    "activation_cutoff",
    "mean_jump_time_averaged",
    "fit_omega",
]


@dataclass
class BarrierDensity:
    """Barrier grid ``e_b`` with the equilibrium distribution ``p_b`` and ρ (Eq. 21), both
    normalised to unit integral on the grid."""

    e_b: np.ndarray
    p_b: np.ndarray
    rho: np.ndarray


def barrier_density(tau_lc_eq: np.ndarray, p: PELParams, n_bins: int = 60) -> BarrierDensity:
    """P_b(E_b) by histogramming E_b = T ln(Γ τ_LC,eq) (Eq. 14) and ρ ∝ P_b e^{−E_b/T} (Eq. 21)."""
    tau = np.asarray(tau_lc_eq, dtype=np.float64)
    tau = tau[np.isfinite(tau) & (tau > 0)]
    if tau.size < 10:
        raise ValueError("barrier_density: need at least 10 finite positive τ_LC,eq values")
    e = barrier_from_tau(tau, p)
    hist, edges = np.histogram(e, bins=n_bins, density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    keep = hist > 0
    eb, pb = centres[keep], hist[keep]
    pb = pb / np.trapezoid(pb, eb) if eb.size > 1 else np.ones(1)
    rho = pb * np.exp(-(eb - eb.min()) / p.temperature)
    rho = rho / np.trapezoid(rho, eb) if eb.size > 1 else rho
    return BarrierDensity(e_b=eb, p_b=pb, rho=rho)


@dataclass
class SGRSteadyState:
    """Steady state at one rate on the (E_b, γ) grid and its observables."""

    rate: float
    e_b: np.ndarray
    gamma: np.ndarray
    p_s: np.ndarray  # (E, G) normalised joint density
    p_gamma: np.ndarray  # P_s(γ), Eq. 23
    mean_strain: float  # γ̄, Eq. 24
    tau_lc_mean: float  # τ̄_LC, Eq. 29
    p_ac: np.ndarray  # P_ac(γ_ac), Eq. 30 (normalised)
    stress: float  # σ_SGR, Eq. 32 (prefactor of "∼" set to 1)

    @property
    def viscosity(self) -> float:
        return self.stress / self.rate

    def p_sd(self, gamma_c: float) -> float:
        """Eq. 31: fraction of activations at strains beyond ``gamma_c``."""
        m = self.gamma >= gamma_c
        if m.sum() < 2:
            return 0.0
        return float(np.trapezoid(self.p_ac[m], self.gamma[m]))


def _gamma_grid(rate: float, bd: BarrierDensity, p: PELParams, n: int) -> np.ndarray:
    _, gb, _ = basin_shape(bd.e_b.max(), p)
    g_hi = float(gb) + 30.0 * rate * p.gamma_inv + 1e-6
    g_lo = min(1e-3 * rate * p.gamma_inv, 1e-4 * g_hi)
    return np.concatenate([[0.0], np.geomspace(g_lo, g_hi, n - 1)])


def sgr_steady_state(rate: float, bd: BarrierDensity, p: PELParams, n_gamma: int = 3000) -> SGRSteadyState:
    """Steady state of Eq. 19 at ``rate`` (> 0) and its observables (Eq. 23-32)."""
    if not rate > 0:
        raise ValueError(f"SGR steady state needs rate > 0, got {rate}")
    gam = _gamma_grid(rate, bd, p, n_gamma)
    e = bd.e_b[:, None]
    en = deformation_energy(gam[None, :], e, p)  # (E, G)
    w = np.exp((en - e) / p.temperature)  # e^{-(E_b - E)/T}
    # (1/g) ∫_0^γ e^{E/T} dγ' = (Γ/γ̇) ∫_0^γ e^{-(E_b - E)/T} dγ'
    cum = np.concatenate(
        [np.zeros((e.shape[0], 1)), np.cumsum(0.5 * (w[:, 1:] + w[:, :-1]) * np.diff(gam)[None, :], axis=1)], axis=1
    ) / (rate * p.gamma_inv)
    ps = bd.rho[:, None] * np.exp(-cum)
    norm = np.trapezoid(np.trapezoid(ps, gam, axis=1), bd.e_b) if bd.e_b.size > 1 else np.trapezoid(ps[0], gam)
    ps = ps / norm

    def e_int(y: np.ndarray) -> np.ndarray:
        return np.trapezoid(y, bd.e_b, axis=0) if bd.e_b.size > 1 else y[0]

    pg = e_int(ps)
    mean_strain = float(np.trapezoid(gam * pg, gam) / np.trapezoid(pg, gam))
    tau = p.gamma_inv / w
    tau_mean = float(np.trapezoid(e_int(ps * tau), gam))
    pac = e_int(w / (rate * p.gamma_inv) * ps)
    pac = pac / np.trapezoid(pac, gam)
    stress = float(np.trapezoid(e_int(deformation_slope(gam[None, :], e, p) * ps), gam))
    return SGRSteadyState(
        rate=float(rate),
        e_b=bd.e_b,
        gamma=gam,
        p_s=ps,
        p_gamma=pg,
        mean_strain=mean_strain,
        tau_lc_mean=tau_mean,
        p_ac=pac,
        stress=stress,
    )


def activation_cutoff(state: SGRSteadyState, mass: float = 0.95) -> float:
    """γ_ac,c: the strain below which ``mass`` of the activations lie (effective range of
    P_ac at the lowest, Newtonian rate; Fig. 27)."""
    c = np.concatenate([[0.0], np.cumsum(0.5 * (state.p_ac[1:] + state.p_ac[:-1]) * np.diff(state.gamma))])
    return float(np.interp(mass, c / c[-1], state.gamma))


def mean_jump_time_averaged(rate: float, bd: BarrierDensity, p: PELParams) -> float:
    """Eq. 33: t̄(γ̇) = ∫ P_b(E_b) t̄(E_b, γ̇) dE_b."""
    t = mean_jump_time(bd.e_b, rate, p, n_grid=1500)
    if bd.e_b.size == 1:
        return float(t[0])
    return float(np.trapezoid(bd.p_b * t, bd.e_b))


def fit_omega(
    rate: float, tau_sh_mean: float, bd: BarrierDensity, p: PELParams, bounds: tuple[float, float] = (0.05, 50.0)
) -> float:
    """Eq. 34: the activation volume Ω minimising |τ̄_sh(γ̇) − t̄(γ̇)| (bounded, in ln Ω).

    ``bounds`` are multiples of the measured Ω (``p.omega``).
    """

    def loss(lo: float) -> float:
        q = replace(p, omega=p.omega * float(np.exp(lo)))
        return abs(np.log(mean_jump_time_averaged(rate, bd, q)) - np.log(tau_sh_mean))

    r = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded", options={"xatol": 1e-3})
    return float(p.omega * np.exp(r.x))
