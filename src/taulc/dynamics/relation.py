"""The τ_sh(τ_LC) relation (Yu, Zeng & Wang 2025, Sec. II.B and II.D, Figs. 3 and 11).

* :func:`bin_relation` -- particles binned by τ_LC (log bins), bin-averaged τ_sh.
* :func:`fit_eq3` -- ``τ_sh = τ_sh^∞ [1 - exp(-τ_LC/τ_0)]`` (Eq. 3).
* :func:`boundary_tau_lc` -- fast/slow boundary τ_LC,c where the binned
  ``τ_LC - τ_sh(τ_LC)`` first reaches τ_2 (Eq. 2; Fig. 3a-b red bars).
* :func:`linear_fit` -- τ_LC,c (or τ_0) against 1/γ̇ (Fig. 3c-d, Fig. 11a-b).
* :func:`fit_master_curve` / :func:`rescale` -- ``τ_0 = a/γ̇ + b``,
  ``τ_sh^∞ = c γ̇^{-λ}``, ``τ*_sh = τ_sh/(c γ̇^{-λ})``, ``τ*_LC = τ_LC/(a/γ̇ + b)``,
  master curve ``τ*_sh = 1 - exp(-τ*_LC)`` (Eq. 4, Fig. 11e-f).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, curve_fit

logger = logging.getLogger(__name__)

__all__ = [
    "BinnedRelation",
    "bin_relation",
    "eq3",
    "fit_eq3",
    "boundary_tau_lc",
    "linear_fit",
    "MasterCurve",
    "fit_master_curve",
    "rescale",
]


@dataclass
class BinnedRelation:
    """Bin-averaged τ_sh vs τ_LC: ``tau_lc`` (mean τ_LC in the bin), ``tau_sh``, ``sem``, ``count``."""

    tau_lc: np.ndarray
    tau_sh: np.ndarray
    sem: np.ndarray
    count: np.ndarray
    edges: np.ndarray


def bin_relation(
    tau_lc: np.ndarray, tau_sh: np.ndarray, *, n_bins: int = 20, min_count: int = 5, edges: np.ndarray | None = None
) -> BinnedRelation:
    """Bin particles by τ_LC in ``n_bins`` log-spaced bins and average τ_sh (Fig. 3a-b).

    Non-finite or non-positive entries are dropped; bins with fewer than
    ``min_count`` particles are omitted.
    """
    x = np.asarray(tau_lc, dtype=np.float64).ravel()
    y = np.asarray(tau_sh, dtype=np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[ok], y[ok]
    if x.size == 0:
        raise ValueError("no finite positive τ_LC values to bin")
    if edges is None:
        lo, hi = x.min(), x.max()
        edges = np.geomspace(lo, hi * (1 + 1e-12), n_bins + 1) if hi > lo else np.array([lo, hi + 1e-12])
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    nb = edges.size - 1
    cnt = np.bincount(b, minlength=nb)
    sx = np.bincount(b, weights=x, minlength=nb)
    sy = np.bincount(b, weights=y, minlength=nb)
    syy = np.bincount(b, weights=y * y, minlength=nb)
    keep = cnt >= max(1, min_count)
    c = cnt[keep].astype(np.float64)
    my = sy[keep] / c
    var = np.maximum(syy[keep] / c - my * my, 0.0) * c / np.maximum(c - 1, 1)
    return BinnedRelation(tau_lc=sx[keep] / c, tau_sh=my, sem=np.sqrt(var / c), count=cnt[keep], edges=np.asarray(edges))


def eq3(tau_lc: np.ndarray, tau_sh_inf: float, tau_0: float) -> np.ndarray:
    """Eq. 3: ``τ_sh = τ_sh^∞ [1 - exp(-τ_LC / τ_0)]``."""
    return tau_sh_inf * -np.expm1(-np.asarray(tau_lc) / tau_0)


def fit_eq3(rel: BinnedRelation) -> tuple[float, float, np.ndarray]:
    """Weighted least-squares fit of Eq. 3 to binned data; returns ``(τ_sh^∞, τ_0, cov)``.

    Weights are the bin standard errors (floored at 1 % of the value).  The
    starting guess is ``τ_sh^∞ = max τ_sh``, ``τ_0 = τ_sh^∞`` (unit initial slope).
    """
    x, y = rel.tau_lc, rel.tau_sh
    if x.size < 3:
        raise ValueError("need at least 3 bins to fit Eq. 3")
    sig = np.maximum(rel.sem, 0.01 * np.abs(y) + 1e-12)
    p0 = (float(y.max()) * 1.1, float(y.max()))
    popt, pcov = curve_fit(
        eq3, x, y, p0=p0, sigma=sig, absolute_sigma=False, bounds=([1e-12, 1e-12], [np.inf, np.inf]), maxfev=20000
    )
    return float(popt[0]), float(popt[1]), pcov


def boundary_tau_lc(rel: BinnedRelation, tau_2: float, *, fit: tuple[float, float] | None = None) -> float:
    """Fast/slow boundary τ_LC,c: smallest τ_LC with ``τ_LC - τ_sh(τ_LC) = τ_2`` (Eq. 2).

    From the binned curve by linear interpolation of ``Δ = τ_LC - τ_sh`` between
    the first bin pair bracketing τ_2, or, if ``fit = (τ_sh^∞, τ_0)`` is given, by
    solving ``x - eq3(x) = τ_2`` on the fitted curve.  ``nan`` if never reached.
    """
    if fit is not None:

        def g(v: float) -> float:
            return v - eq3(v, *fit) - tau_2

        hi = max(float(rel.tau_lc.max()), tau_2) * 2
        for _ in range(60):
            if g(hi) > 0:
                return float(brentq(g, 0.0, hi))
            hi *= 2
        return float("nan")
    d = rel.tau_lc - rel.tau_sh
    above = np.nonzero(d >= tau_2)[0]
    if above.size == 0:
        return float("nan")
    j = int(above[0])
    if j == 0:
        return float(rel.tau_lc[0])
    w = (tau_2 - d[j - 1]) / (d[j] - d[j - 1])
    return float(rel.tau_lc[j - 1] + w * (rel.tau_lc[j] - rel.tau_lc[j - 1]))


def linear_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares line ``y = slope x + intercept`` (e.g. τ_LC,c vs 1/γ̇, Fig. 3c-d)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        raise ValueError("need at least 2 finite points for a linear fit")
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    return float(slope), float(intercept)


@dataclass
class MasterCurve:
    """Parameters of the Eq. 4 rescaling: ``τ_0 = a/γ̇ + b``, ``τ_sh^∞ = c γ̇^{-λ}``."""

    a: float
    b: float
    c: float
    lam: float
    rates: np.ndarray
    tau_0: np.ndarray
    tau_sh_inf: np.ndarray


def fit_master_curve(fits: Mapping[float, tuple[float, float]]) -> MasterCurve:
    """From per-rate Eq. 3 fits ``{γ̇: (τ_sh^∞, τ_0)}`` fit ``τ_0`` linear in 1/γ̇ (Fig. 11a-b)
    and ``τ_sh^∞`` as a power law of γ̇ (Fig. 11c-d, exponent λ_τ)."""
    rates = np.array(sorted(fits), dtype=np.float64)
    if rates.size < 2 or np.any(rates <= 0):
        raise ValueError("need at least 2 positive shear rates")
    tinf = np.array([fits[r][0] for r in sorted(fits)])
    t0 = np.array([fits[r][1] for r in sorted(fits)])
    a, b = linear_fit(1.0 / rates, t0)
    slope, logc = linear_fit(np.log(rates), np.log(tinf))
    return MasterCurve(a=a, b=b, c=float(np.exp(logc)), lam=-slope, rates=rates, tau_0=t0, tau_sh_inf=tinf)


def rescale(tau_lc: np.ndarray, tau_sh: np.ndarray, rate: float, mc: MasterCurve) -> tuple[np.ndarray, np.ndarray]:
    """``(τ*_LC, τ*_sh)`` of Eq. 4; data on the master curve satisfy ``τ*_sh = 1 - exp(-τ*_LC)``."""
    return (np.asarray(tau_lc) / (mc.a / rate + mc.b), np.asarray(tau_sh) / (mc.c * rate ** (-mc.lam)))
