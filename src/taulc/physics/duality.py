"""Solid-liquid duality viscosity (Yu, Zeng & Wang 2025, Sec. III.B, Eq. 5-6, App. B).

Steady-shear stress as slow (solid-like, elastic LERs) plus fast (liquid-like) parts

    σ(γ̇) = ½ p_slow G_eff γ̇ τ_el + (1 − p_slow) η_eq (τ̄_sh,fast / τ̄_LC,eq) γ̇      (Eq. 5)

with η_fast / η_eq = τ̄_sh,fast / τ̄_LC,eq (Eq. 6), τ_el the time by which 10 % of the
slow particles have relaxed in the τ_sh spectrum, and the effective modulus from the
neighbour loss of App. B:

    G(t) ≈ G_ini (C̄(t) − 0.5) / 0.5                                                  (B1)
    σ_el = ∫_0^τ_el G(t) γ̇ dt                                                       (B2)
    G_eff = w G_ini = (1/τ_el) ∫_0^τ_el G(t) dt                                      (B3)

All functions are pure numpy; :func:`duality_from_labels` takes per-particle labels of
one rate (τ_LC, τ_sh, slow flag) and the equilibrium τ_LC spectrum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "tau_el_from_spectrum",
    "modulus_from_neighbor_keeping",
    "elastic_stress",
    "weakening_factor",
    "duality_stress",
    "DualityResult",
    "duality_from_labels",
    "DualityUncertainty",
    "duality_bootstrap",
]


def tau_el_from_spectrum(tau_sh_slow: np.ndarray, fraction: float = 0.1) -> float:
    """τ_el: the time by which ``fraction`` (10 %) of the slow particles have relaxed.

    Censored τ_sh (NaN or inf: no jump observed) count as not yet relaxed.
    """
    x = np.asarray(tau_sh_slow, dtype=np.float64).ravel()
    if x.size == 0:
        return float("nan")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    x = np.where(np.isfinite(x), x, np.inf)
    q = np.sort(x)[max(0, int(np.ceil(fraction * x.size)) - 1)]
    return float(q)


def modulus_from_neighbor_keeping(cbar: np.ndarray, g_ini: float) -> np.ndarray:
    """Eq. B1: G(t) = G_ini (C̄(t) − 0.5)/0.5, floored at 0 (modulus lost at half the bonds)."""
    return g_ini * np.clip((np.asarray(cbar, dtype=np.float64) - 0.5) / 0.5, 0.0, None)


def _integral_to(t: np.ndarray, y: np.ndarray, t_end: float) -> float:
    """Trapezoid integral of samples ``y(t)`` from t[0] to ``t_end`` (linear interpolation)."""
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.diff(t) > 0):
        raise ValueError("times must be strictly increasing")
    if not t[0] <= t_end <= t[-1]:
        raise ValueError(f"t_end={t_end} outside the sampled range [{t[0]}, {t[-1]}]")
    k = int(np.searchsorted(t, t_end, side="right"))
    tt = np.concatenate([t[:k], [t_end]])
    yy = np.concatenate([y[:k], [np.interp(t_end, t, y)]])
    return float(np.trapezoid(yy, tt))


def elastic_stress(t: np.ndarray, cbar: np.ndarray, g_ini: float, rate: float, tau_el: float) -> float:
    """Eq. B2: maximum elastic stress of an LER, ∫_0^τ_el G(t) γ̇ dt (C̄ sampled at ``t``, t[0]=0)."""
    return rate * _integral_to(t, modulus_from_neighbor_keeping(cbar, g_ini), tau_el)


def weakening_factor(t: np.ndarray, cbar: np.ndarray, tau_el: float) -> float:
    """Eq. B3: w = G_eff/G_ini = (1/τ_el) ∫_0^τ_el (C̄ − 0.5)/0.5 dt (w = 1 if C̄ ≡ 1)."""
    if not tau_el > 0:
        raise ValueError(f"tau_el must be > 0, got {tau_el}")
    return _integral_to(t, modulus_from_neighbor_keeping(cbar, 1.0), tau_el) / tau_el


def duality_stress(
    rate: float, p_slow: float, g_eff: float, tau_el: float, eta_eq: float, tau_sh_fast_mean: float, tau_lc_eq_mean: float
) -> tuple[float, float]:
    """Eq. 5 split into (slow, fast) contributions; the total is their sum.

    With ``p_slow = 0`` the viscosity is η_eq τ̄_sh,fast / τ̄_LC,eq (Eq. 6).
    """
    slow = 0.5 * p_slow * g_eff * rate * tau_el if p_slow > 0 else 0.0
    fast = (1.0 - p_slow) * eta_eq * tau_sh_fast_mean / tau_lc_eq_mean * rate
    return float(slow), float(fast)


@dataclass
class DualityResult:
    """Eq. 5 at one rate, with the measured inputs it used."""

    rate: float
    p_slow: float
    tau_el: float
    tau_sh_fast_mean: float
    tau_sh_slow_mean: float
    tau_lc_eq_mean: float
    g_eff: float
    eta_eq: float
    sigma_slow: float
    sigma_fast: float

    @property
    def eta(self) -> float:
        """Duality viscosity σ/γ̇ (Eq. 5)."""
        return (self.sigma_slow + self.sigma_fast) / self.rate

    @property
    def c_el(self) -> float:
        """Eq. 8: c_el = τ_el / τ̄_sh,slow."""
        return self.tau_el / self.tau_sh_slow_mean

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "eta": self.eta, "c_el": self.c_el}


def duality_from_labels(
    rate: float,
    tau_sh: np.ndarray,
    slow: np.ndarray,
    tau_lc_eq: np.ndarray,
    eta_eq: float,
    g_eff: float,
    el_fraction: float = 0.1,
    fast_time: str = "tau_sh",
    tau_lc: np.ndarray | None = None,
) -> DualityResult:
    """Eq. 5 from per-particle labels of one rate.

    Args:
        tau_sh: τ_sh of the particles at this rate (NaN = censored).
        slow: Eq. 2 flags of the same particles.
        tau_lc_eq: the equilibrium τ_LC spectrum (τ̄_LC,eq is its mean).
        eta_eq: zero-shear viscosity.
        g_eff: effective LER modulus (App. B).
        fast_time: ``"tau_sh"`` (Eq. 6) or ``"tau_lc"`` (the paper's approximation
            τ̄_sh ≈ τ̄_LC for fast particles; needs ``tau_lc``).
    """
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    ts = np.asarray(tau_sh, dtype=np.float64).ravel()
    sl = np.asarray(slow).astype(bool).ravel()
    if ts.shape != sl.shape:
        raise ValueError(f"tau_sh and slow must have the same shape, got {ts.shape}, {sl.shape}")
    fast_src = ts if fast_time == "tau_sh" else np.asarray(tau_lc, dtype=np.float64).ravel()
    p_slow = float(sl.mean())
    t_fast = float(np.nanmean(fast_src[~sl])) if (~sl).any() else float("nan")
    t_slow = float(np.nanmean(ts[sl])) if sl.any() else float("nan")
    t_el = tau_el_from_spectrum(ts[sl], el_fraction) if sl.any() else 0.0
    t_eq = float(np.nanmean(np.asarray(tau_lc_eq, dtype=np.float64)))
    s_slow, s_fast = duality_stress(rate, p_slow, g_eff, t_el, eta_eq, t_fast, t_eq)
    return DualityResult(
        rate=float(rate),
        p_slow=p_slow,
        tau_el=t_el,
        tau_sh_fast_mean=t_fast,
        tau_sh_slow_mean=t_slow,
        tau_lc_eq_mean=t_eq,
        g_eff=float(g_eff),
        eta_eq=float(eta_eq),
        sigma_slow=s_slow,
        sigma_fast=s_fast,
    )


@dataclass
class DualityUncertainty:
    """Eq. 5 at one rate with bootstrap uncertainties (replicas and configurations resampled,
    η_eq drawn from its Eq. 1 standard error); ``*_se`` are bootstrap standard deviations."""

    rate: float
    eta: float
    eta_se: float
    p_slow: float
    p_slow_se: float
    tau_sh_fast_mean: float
    tau_sh_fast_mean_se: float
    tau_lc_eq_mean: float
    tau_lc_eq_mean_se: float
    tau_el: float
    tau_el_se: float
    n_boot: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _restricted(first: np.ndarray, t_max: float) -> np.ndarray:
    """``min(τ_r, t_max)`` with censored (NaN) entries at ``t_max``: the replica terms whose
    mean is the Kaplan-Meier restricted mean for a common horizon."""
    x = np.asarray(first, dtype=np.float64)
    return np.minimum(np.where(np.isfinite(x), x, t_max), t_max)


def duality_bootstrap(
    rate: float,
    first_lc: list[np.ndarray],
    first_sh: list[np.ndarray],
    first_lc_eq: list[np.ndarray],
    t_max: float,
    tau_2: float,
    eta_eq: float,
    eta_eq_se: float,
    g_eff: float,
    n_boot: int = 200,
    seed: int = 0,
    el_fraction: float = 0.1,
) -> DualityUncertainty:
    """Eq. 5 with its uncertainty from the per-replica first-jump times of one rate.

    Each bootstrap draw resamples the configurations of the rate and of the equilibrium set,
    then the replicas of each configuration (the same replica index for shear off and on: the
    pairs share initial velocities), rebuilds τ_LC, τ_sh (restricted means at ``t_max``), the
    Eq. 2 split, p_slow, τ̄_sh,fast, τ_el and τ̄_LC,eq, and draws η_eq ~ N(η_eq, eta_eq_se).
    G_eff and τ_2 are held fixed.  The central values are those of the full data.
    """
    rng = np.random.default_rng(seed)
    lc = [_restricted(a, t_max) for a in first_lc]
    sh = [_restricted(a, t_max) for a in first_sh]
    eq = [_restricted(a, t_max) for a in first_lc_eq]

    def one(
        idx_c: np.ndarray, reps: list[np.ndarray], idx_e: np.ndarray, reps_e: list[np.ndarray], eta0: float
    ) -> tuple[float, float, float, float, float]:
        t_lc = np.concatenate([lc[c][r].mean(axis=0) for c, r in zip(idx_c, reps)])
        t_sh = np.concatenate([sh[c][r].mean(axis=0) for c, r in zip(idx_c, reps)])
        t_eq = np.concatenate([eq[c][r].mean(axis=0) for c, r in zip(idx_e, reps_e)])
        slow = (t_lc - t_sh) >= tau_2
        res = duality_from_labels(rate, t_sh, slow, t_eq, eta0, g_eff, el_fraction)
        return res.eta, res.p_slow, res.tau_sh_fast_mean, res.tau_lc_eq_mean, res.tau_el

    full = one(
        np.arange(len(lc)), [np.arange(a.shape[0]) for a in lc], np.arange(len(eq)), [np.arange(a.shape[0]) for a in eq], eta_eq
    )
    draws = []
    for _ in range(int(n_boot)):
        ic = rng.integers(0, len(lc), len(lc))
        ie = rng.integers(0, len(eq), len(eq))
        reps = [rng.integers(0, lc[c].shape[0], lc[c].shape[0]) for c in ic]
        reps_e = [rng.integers(0, eq[c].shape[0], eq[c].shape[0]) for c in ie]
        eta0 = eta_eq + (eta_eq_se * rng.standard_normal() if np.isfinite(eta_eq_se) else 0.0)
        draws.append(one(ic, reps, ie, reps_e, eta0))
    sd = np.nanstd(np.asarray(draws), axis=0, ddof=1)
    return DualityUncertainty(
        rate=float(rate),
        eta=full[0],
        eta_se=float(sd[0]),
        p_slow=full[1],
        p_slow_se=float(sd[1]),
        tau_sh_fast_mean=full[2],
        tau_sh_fast_mean_se=float(sd[2]),
        tau_lc_eq_mean=full[3],
        tau_lc_eq_mean_se=float(sd[3]),
        tau_el=full[4],
        tau_el_se=float(sd[4]),
        n_boot=int(n_boot),
    )
