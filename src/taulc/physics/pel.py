"""Particle-level potential-energy-landscape (PEL) model (Yu, Zeng & Wang 2025, Sec. V.A, Eq. 14-18).

A particle sits in a basin of barrier E_b (Eq. 14: τ_LC,eq = Γ⁻¹ e^{E_b/T}); shear
tilts it by the deformation energy (Eq. 16)

    E(γ) = ½ G Ω γ²                  0 ≤ γ ≤ γ_x
    E(γ) = E_b − A (γ_b − γ)^{3/2}    γ_x < γ ≤ γ_b       (E = E_b beyond γ_b)

with E and dE/dγ continuous at γ_x and E(γ_x) = α E_b, which fixes

    γ_x = √(2 α E_b / (G Ω)),   γ_b − γ_x = 3 (1 − α) γ_x / (4 α),   A = (1 − α) E_b / (γ_b − γ_x)^{3/2}.

The escape rate is Γ e^{−(E_b − E(γ̇ t))/T} (Eq. 15), the jump-time density

    f(t) = Γ e^{−(E_b − E(γ̇t))/T} exp(−Γ ∫_0^t e^{−(E_b − E(γ̇t'))/T} dt')          (Eq. 17)

and the mean jump time t̄(E_b, γ̇) = ∫_0^∞ S(t) dt with S the survival (Eq. 18), which at
γ̇ = 0 is Eq. 14.  t̄ gives τ_sh(τ_LC) per rate (Fig. 23); f(t) against f_eq(t) gives t_c
and p'_slow = ∫_{t_c}^∞ f dt (Fig. 24).  Units: k_B = 1 (T in ε).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

__all__ = [
    "PELParams",
    "barrier_from_tau",
    "tau_from_barrier",
    "basin_shape",
    "deformation_energy",
    "deformation_slope",
    "jump_time_density",
    "mean_jump_time",
    "deviation_time",
    "fit_alpha",
]


@dataclass(frozen=True)
class PELParams:
    """Measured constants (Γ⁻¹ from the MSD, G = G_eff, Ω = cage volume, T) and the free α."""

    gamma_inv: float
    g: float
    omega: float
    temperature: float
    alpha: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"PEL parameter 'alpha' must be in (0, 1), got {self.alpha}")
        for f in ("gamma_inv", "g", "omega", "temperature"):
            if not getattr(self, f) > 0:
                raise ValueError(f"PEL parameter '{f}' must be > 0, got {getattr(self, f)}")


def barrier_from_tau(tau_lc_eq: np.ndarray, p: PELParams) -> np.ndarray:
    """Eq. 14 inverted: E_b = T ln(Γ τ_LC,eq)."""
    return p.temperature * np.log(np.asarray(tau_lc_eq, dtype=np.float64) / p.gamma_inv)


def tau_from_barrier(e_b: np.ndarray, p: PELParams) -> np.ndarray:
    """Eq. 14: τ_LC,eq = Γ⁻¹ e^{E_b/T}."""
    return p.gamma_inv * np.exp(np.asarray(e_b, dtype=np.float64) / p.temperature)


def basin_shape(e_b: np.ndarray, p: PELParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(γ_x, γ_b, A)`` of Eq. 16 from the continuity conditions (E_b ≥ 0)."""
    e = np.maximum(np.asarray(e_b, dtype=np.float64), 0.0)
    gx = np.sqrt(2.0 * p.alpha * e / (p.g * p.omega))
    dx = 3.0 * (1.0 - p.alpha) * gx / (4.0 * p.alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(dx > 0, (1.0 - p.alpha) * e / dx**1.5, 0.0)
    return gx, gx + dx, a


def deformation_energy(gamma: np.ndarray, e_b: np.ndarray, p: PELParams) -> np.ndarray:
    """Eq. 16, broadcast over ``gamma`` and ``e_b`` (E = E_b beyond the basin edge γ_b)."""
    g = np.abs(np.asarray(gamma, dtype=np.float64))
    e = np.maximum(np.asarray(e_b, dtype=np.float64), 0.0)
    gx, gb, a = basin_shape(e, p)
    harm = 0.5 * p.g * p.omega * g * g
    cat = e - a * np.clip(gb - g, 0.0, None) ** 1.5
    return np.where(g <= gx, harm, np.where(g <= gb, cat, e))


def deformation_slope(gamma: np.ndarray, e_b: np.ndarray, p: PELParams) -> np.ndarray:
    """dE/dγ of Eq. 16 (the atomic-level stress of Eq. 32; 0 beyond γ_b)."""
    g = np.asarray(gamma, dtype=np.float64)
    e = np.maximum(np.asarray(e_b, dtype=np.float64), 0.0)
    gx, gb, a = basin_shape(e, p)
    ag = np.abs(g)
    harm = p.g * p.omega * ag
    cat = 1.5 * a * np.sqrt(np.clip(gb - ag, 0.0, None))
    return np.sign(g) * np.where(ag <= gx, harm, np.where(ag <= gb, cat, 0.0))


def _time_grid(e_b: np.ndarray, rate: float, p: PELParams, n: int) -> np.ndarray:
    """Log-spaced times from 1e-4 Γ⁻¹ to where every survival has decayed (≥ 40 τ or γ_b/γ̇ + 40 Γ⁻¹)."""
    tau = tau_from_barrier(np.max(e_b), p)
    t_end = 40.0 * tau
    if rate > 0:
        _, gb, _ = basin_shape(np.max(e_b), p)
        t_end = min(t_end, float(gb) / rate + 40.0 * p.gamma_inv)
    t_end = max(t_end, 40.0 * p.gamma_inv)
    return np.concatenate([[0.0], np.geomspace(1e-4 * p.gamma_inv, t_end, n - 1)])


def _hazard_survival(t: np.ndarray, e_b: np.ndarray, rate: float, p: PELParams) -> tuple[np.ndarray, np.ndarray]:
    """Escape rate k(t) (Eq. 15) and survival S(t) = exp(−∫k) for each E_b (rows) on ``t``."""
    e = np.asarray(e_b, dtype=np.float64)[:, None]
    k = np.exp(-(e - deformation_energy(rate * t[None, :], e, p)) / p.temperature) / p.gamma_inv
    cum = np.concatenate(
        [np.zeros((e.shape[0], 1)), np.cumsum(0.5 * (k[:, 1:] + k[:, :-1]) * np.diff(t)[None, :], axis=1)], axis=1
    )
    return k, np.exp(-cum)


def jump_time_density(t: np.ndarray, e_b: float, rate: float, p: PELParams) -> np.ndarray:
    """f(t) of Eq. 17 on the given times (normalised: ∫_0^∞ f dt = 1)."""
    tt = np.asarray(t, dtype=np.float64)
    if tt.ndim != 1 or tt[0] != 0 or np.any(np.diff(tt) <= 0):
        raise ValueError("t must be increasing and start at 0 (the survival integral needs t = 0)")
    k, s = _hazard_survival(tt, np.array([e_b]), rate, p)
    return (k * s)[0]


def mean_jump_time(e_b: np.ndarray, rate: float, p: PELParams, n_grid: int = 4000, chunk: int = 256) -> np.ndarray:
    """t̄(E_b, γ̇) of Eq. 18 = ∫_0^∞ S(t) dt for every E_b (vectorised, chunked)."""
    e = np.atleast_1d(np.asarray(e_b, dtype=np.float64))
    out = np.empty(e.shape)
    flat, res = e.ravel(), out.reshape(-1)
    for a in range(0, flat.size, chunk):
        sub = flat[a : a + chunk]
        t = _time_grid(sub, rate, p, n_grid)
        _, s = _hazard_survival(t, sub, rate, p)
        tail = s[:, -1] / np.maximum(
            np.exp(-(sub - deformation_energy(rate * t[-1], sub, p)) / p.temperature) / p.gamma_inv, 1e-300
        )
        res[a : a + chunk] = np.trapezoid(s, t, axis=1) + tail  # exponential tail beyond t_end
    return out


def deviation_time(e_b: float, rate: float, p: PELParams, tol: float = 0.1, n_grid: int = 4000) -> tuple[float, float]:
    """``(t_c, p'_slow)`` of Fig. 24: first time f(t) departs from f_eq(t) by ``tol`` (relative),
    and the probability ∫_{t_c}^∞ f dt = S(t_c) of jumping later (slow)."""
    t = _time_grid(np.array([e_b]), 0.0, p, n_grid)
    k, s = _hazard_survival(t, np.array([e_b]), rate, p)
    k0, s0 = _hazard_survival(t, np.array([e_b]), 0.0, p)
    ratio = (k * s)[0] / np.maximum((k0 * s0)[0], 1e-300)
    off = np.nonzero(np.abs(ratio - 1.0) > tol)[0]
    if off.size == 0:
        return float("inf"), 0.0
    i = int(off[0])
    return float(t[i]), float(s[0, i])


def fit_alpha(
    tau_lc: Sequence[np.ndarray],
    tau_sh: Sequence[np.ndarray],
    rates: Sequence[float],
    make: Callable[[float], PELParams],
    bounds: tuple[float, float] = (0.002, 0.98),
) -> tuple[float, float]:
    """Fit α to binned MD τ_sh(τ_LC) at several rates (least squares in ln τ_sh).

    ``make(alpha)`` returns PELParams; ``tau_lc[k]``/``tau_sh[k]`` are bin means at ``rates[k]``.
    Returns ``(α, rms of ln τ_sh residuals)``.
    """

    def loss(a: float) -> float:
        p = make(a)
        r2 = []
        for x, y, r in zip(tau_lc, tau_sh, rates):
            model = mean_jump_time(barrier_from_tau(np.asarray(x), p), r, p, n_grid=1500)
            r2.append((np.log(model) - np.log(np.asarray(y))) ** 2)
        return float(np.mean(np.concatenate(r2)))

    r = minimize_scalar(loss, bounds=bounds, method="bounded", options={"xatol": 1e-3})
    return float(r.x), float(np.sqrt(r.fun))
