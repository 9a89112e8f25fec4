r"""Mechanical spectroscopy of an oscillatory shear (MD-DMS; Yu, Gao, Gao & Samwer, Methods Eqs. 4-6).

Strain ``γ(t) = γ_A sin(2π t / t_w)`` (Eq. 4); the shear stress is fitted by
``σ(t) = σ_0 + σ_A sin(2π t / t_w + δ)`` (Eq. 5) and

    G' = (σ_A / γ_A) cos δ,     G'' = (σ_A / γ_A) sin δ            Eq. 6

The fit is linear least squares on (1, sin ωt, cos ωt) over whole periods
(``σ_A sin(ωt + δ) = a sin ωt + b cos ωt`` with ``a = σ_A cos δ``,
``b = σ_A sin δ``).  The phase angle δ then relates to IS D_min by the
power law ``δ = a (IS D_min)^b`` (their Eq. 1), fitted by :func:`power_law_fit`.
Stress convention: σ_xy = -p_xy (LAMMPS's pressure tensor), so σ = G γ for an
elastic solid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from taulc.physics.dmin import is_dmin
from taulc.physics.inherent import minimize_settings

__all__ = ["DMSResult", "fit_dms", "power_law_fit"]


@dataclass
class DMSResult:
    """Eqs. 5-6: storage / loss moduli, phase angle and the fitted stress amplitude and offset."""

    storage: float  # G'
    loss: float  # G''
    delta: float  # phase angle δ (rad), in (-π, π]
    sigma_amplitude: float  # σ_A
    sigma_offset: float  # σ_0
    n_periods: int


def fit_dms(times: np.ndarray, stress: np.ndarray, gamma0: float, period: float, skip_periods: int = 1) -> DMSResult:
    """Fit Eq. 5 to ``stress(times)`` (σ_xy; ``times`` from the strain origin) over whole periods
    after ``skip_periods`` (transient)."""
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(stress, dtype=np.float64)
    if t.shape != s.shape or t.ndim != 1:
        raise ValueError(f"fit_dms: times and stress must be 1-d of equal length, got {t.shape}, {s.shape}")
    if not (gamma0 > 0 and period > 0):
        raise ValueError(f"fit_dms: gamma0 and period must be > 0, got {gamma0}, {period}")
    # periods counted from the strain origin t = 0 (samples are window centres, the last one
    # half a window before the end of the run)
    n_per = int(math.floor(t[-1] / period + 0.02)) - int(skip_periods)
    if n_per < 1:
        raise ValueError(f"fit_dms: need at least {skip_periods + 1} periods of t_w = {period:g}, got {t[-1] / period:.2f}")
    t0 = skip_periods * period
    sel = (t >= t0 - 1e-9) & (t <= t0 + n_per * period + 1e-9)
    w = 2.0 * math.pi / period
    a_mat = np.stack([np.ones(sel.sum()), np.sin(w * t[sel]), np.cos(w * t[sel])], axis=1)
    (c0, a, b), *_ = np.linalg.lstsq(a_mat, s[sel], rcond=None)
    return DMSResult(a / gamma0, b / gamma0, math.atan2(b, a), math.hypot(a, b), c0, n_per)


def power_law_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of ``y = a x^b`` by least squares in log-log (their Eq. 1); positive entries only."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        raise ValueError("power_law_fit: need at least two positive (x, y) points")
    b, ln_a = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(math.exp(ln_a)), float(b)


def dms_scan(
    engine,
    conf,
    gamma0: float,
    periods: list[float],
    n_cycles: int = 4,
    skip_cycles: int = 1,
    seed: int = 0,
    minimize: dict | None = None,
    sample_every: int | None = None,
) -> list[dict]:
    """MD-DMS over periods t_w from ``conf``: G', G'', δ (Eqs. 4-6) and IS D_min over one period.

    IS D_min(t_w) is the mean over consecutive cycle ends after ``skip_cycles``
    (there the cell is back at its initial tilt) of Eq. 3 between their inherent
    states, minimised with ``engine.minimize(**minimize)``.
    """

    settings = minimize_settings(minimize)
    rows = []
    for k, tw in enumerate(periods):
        run = engine.oscillate(conf, gamma0, tw, n_cycles, seed=seed + k, sample_every=sample_every, snapshot_every_cycle=True)
        fit = fit_dms(run["times"], run["stress"], gamma0, tw, skip_periods=skip_cycles)
        ends = [c for c in run["configurations"] if c.meta["cycle"] >= skip_cycles]
        inh = [engine.minimize(c, **settings) for c in ends]
        d = [is_dmin(a.positions, b.positions, a.species, a.cell) for a, b in zip(inh[:-1], inh[1:])]
        rows.append(
            {
                "period": float(tw),
                "gamma0": float(gamma0),
                "storage": fit.storage,
                "loss": fit.loss,
                "delta": fit.delta,
                "n_periods_fit": fit.n_periods,
                "is_dmin": float(np.mean([x.dmin for x in d])) if d else float("nan"),
                "labelled_rmsd": float(np.mean([x.labelled_rmsd for x in d])) if d else float("nan"),
            }
        )
    return rows
