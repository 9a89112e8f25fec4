"""Flow curve η(γ̇) and its shear-thinning power law η ∝ γ̇^-λ (core paper Eq. 1, Fig. 1)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["PowerLaw", "fit_power_law", "thinning_regime"]


@dataclass
class PowerLaw:
    """``y = prefactor · x^(-lam)``; ``lam_err`` is the standard error of λ (NaN with 2 points)."""

    lam: float
    prefactor: float
    lam_err: float
    x: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.prefactor * np.asarray(x, dtype=np.float64) ** (-self.lam)


def fit_power_law(x: Sequence[float], y: Sequence[float], sem: Sequence[float] | None = None) -> PowerLaw:
    """Weighted least squares of ln y = ln A − λ ln x (weights 1/σ_ln y² with σ_ln y = sem/y)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        raise ValueError("need at least 2 positive points for a power-law fit")
    lx, ly = np.log(x[ok]), np.log(y[ok])
    w = np.ones_like(lx)
    if sem is not None:
        s = np.asarray(sem, dtype=np.float64)[ok] / y[ok]
        if np.all(np.isfinite(s) & (s > 0)):
            w = 1.0 / s**2
    a = np.column_stack([np.ones_like(lx), lx])
    aw = a * w[:, None]
    cov = np.linalg.inv(a.T @ aw)
    coef = cov @ (aw.T @ ly)
    lam_err = float("nan")
    if ok.sum() > 2:
        res = ly - a @ coef
        s2 = float(res @ (w * res)) / (ok.sum() - 2)
        lam_err = float(np.sqrt(cov[1, 1] * s2))
    return PowerLaw(lam=float(-coef[1]), prefactor=float(np.exp(coef[0])), lam_err=lam_err, x=x[ok])


def thinning_regime(
    rates: Sequence[float], eta: Sequence[float], slope_threshold: float = 0.3, min_rate: float | str | None = "auto"
) -> np.ndarray:
    """Mask of the shear-thinning rates (Fig. 1): all γ̇ ≥ ``min_rate``, or with ``'auto'`` the
    highest rates down to the lowest one whose log-slope d ln η / d ln γ̇ towards the next lower
    rate is still ≤ −threshold (a crossover point with a flatter lower segment is left out)."""
    r = np.asarray(rates, dtype=np.float64)
    e = np.asarray(eta, dtype=np.float64)
    ok = np.isfinite(e) & (e > 0) & (r > 0)
    if min_rate not in (None, "auto"):
        return ok & (r >= float(min_rate))
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(r[idx])]
    mask = np.zeros(len(r), dtype=bool)
    if len(idx) < 2:
        mask[idx] = True
        return mask
    slopes = np.diff(np.log(e[idx])) / np.diff(np.log(r[idx]))  # slopes[i]: segment (i, i+1)
    k = len(idx) - 1  # the highest rate is in the regime; go down while a point's lower segment is steep
    while k > 1 and slopes[k - 2] <= -slope_threshold and slopes[k - 1] <= -slope_threshold:
        k -= 1
    if slopes[-1] > -slope_threshold or k == len(idx) - 1:  # no thinning detected: use the two highest rates
        k = len(idx) - 2
    mask[idx[k:]] = True
    return mask
