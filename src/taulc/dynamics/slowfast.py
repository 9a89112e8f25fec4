"""The fast/slow split of Eq. 2 under finite-replica label noise.

Yu, Zeng & Wang (2025), *Understanding flow behaviors of supercooled liquids by
embodying solid-liquid duality at particle level*, Eq. 2: a particle is slow
when ``τ_LC − τ_sh ≥ τ_2``.  Both times are isoconfigurational means over R
replicas; with the common velocities of the label stage, replica r gives a
*pair* of first-jump times (shear off, shear on) from the same initial
velocities, so the per-particle difference and its replica standard error are

    D = (1/R) Σ_r d_r,   d_r = min(τ_LC,r, t_max) − min(τ_sh,r, t_max),
    se(D) = std_r(d_r) / √R,

and ``D`` equals the stored ``τ_LC − τ_sh`` (Kaplan-Meier restricted means with a
common horizon ``t_max``).  With R = 6 the noise of ``D`` is of order τ_2, so
Eq. 2 as printed flags particles by chance.  Two guards are computed here:

* the **mirrored condition** ``D ≤ −τ_2``: a particle whose shear-on and
  shear-off first jumps are exchangeable (shear changes nothing) has a symmetric
  ``D``, so ``P(D ≤ −τ_2)`` is the rate at which noise alone passes Eq. 2; the
  excess ``p_slow − p_mirror`` is the noise-corrected slow fraction (a lower
  bound where shear speeds particles up, which also moves D off zero);
* a **per-particle test** on the replica pairs: slow when
  ``(D − τ_2)/se ≥ z`` (one-sided, ``z = 1.645`` for 5 %); its mirror
  ``(−D − τ_2)/se ≥ z`` is again the false-positive floor.

Uncertainties of the fractions are standard errors over configurations (the
unit of independent MD; particles within a configuration are correlated).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["paired_difference", "classify_slow_tested", "SlowFraction", "slow_fraction"]


def paired_difference(first_lc: np.ndarray, first_sh: np.ndarray, t_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-particle ``D = τ_LC − τ_sh`` and its replica standard error from paired replicas.

    Args:
        first_lc, first_sh: ``(R, N)`` first-jump times of the same replicas (same seeds)
            with shear off and on, NaN = censored at ``t_max``.
        t_max: the common censoring horizon.

    Returns ``(D (N,), se (N,))``; ``se`` is NaN for R < 2.
    """
    lc = np.asarray(first_lc, dtype=np.float64)
    sh = np.asarray(first_sh, dtype=np.float64)
    if lc.shape != sh.shape or lc.ndim != 2:
        raise ValueError(f"first_lc and first_sh must be (R, N) of one shape, got {lc.shape}, {sh.shape}")
    tm = float(t_max)
    d = np.minimum(np.where(np.isfinite(lc), lc, tm), tm) - np.minimum(np.where(np.isfinite(sh), sh, tm), tm)
    r = d.shape[0]
    se = d.std(axis=0, ddof=1) / np.sqrt(r) if r > 1 else np.full(d.shape[1], np.nan)
    return d.mean(axis=0), se


def classify_slow_tested(diff: np.ndarray, se: np.ndarray, tau_2: float, z: float = 1.645) -> np.ndarray:
    """Slow when Eq. 2 holds beyond the replica noise: ``(D − τ_2)/se ≥ z``.

    A particle with ``se = 0`` (identical differences in every replica pair, e.g. all
    censored) is slow when ``D > τ_2``.
    """
    d = np.asarray(diff, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    excess = d - float(tau_2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(s > 0, excess / s, np.where(excess > 0, np.inf, -np.inf))
    return t >= z


@dataclass
class SlowFraction:
    """p_slow of one rate with its noise floor (fractions over all particles; ``*_se``: s.e.
    over configurations).

    Attributes:
        p_slow: Eq. 2 as printed, ``D ≥ τ_2``.
        p_mirror: the mirrored condition ``D ≤ −τ_2`` (noise floor of ``p_slow``).
        excess: ``p_slow − p_mirror``; ``z_excess`` = excess / its s.e.
        p_tested: per-particle test ``(D − τ_2)/se ≥ z``; ``p_tested_mirror`` its floor.
    """

    rate: float
    n_particles: int
    n_configs: int
    p_slow: float
    p_slow_se: float
    p_mirror: float
    p_mirror_se: float
    excess: float
    excess_se: float
    z_excess: float
    p_tested: float
    p_tested_se: float
    p_tested_mirror: float
    p_tested_mirror_se: float
    z: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error over the first axis (NaN s.e. for one value)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return float(np.mean(x)), float("nan")
    return float(np.mean(x)), float(np.std(x, ddof=1) / np.sqrt(x.size))


def slow_fraction(
    first_lc: list[np.ndarray],
    first_sh: list[np.ndarray],
    t_max: float,
    tau_2: float,
    rate: float = float("nan"),
    z: float = 1.645,
    mask: list[np.ndarray] | None = None,
) -> SlowFraction:
    """p_slow with its noise floor, over configurations (one ``(R, N)`` pair per configuration).

    ``mask`` (per configuration, ``(N,)`` bool) restricts the particles (e.g. one species).
    """
    if len(first_lc) != len(first_sh) or not first_lc:
        raise ValueError("need one (first_lc, first_sh) pair per configuration")
    rows = []
    for k, (a, b) in enumerate(zip(first_lc, first_sh)):
        d, se = paired_difference(a, b, t_max)
        m = np.ones(d.size, bool) if mask is None else np.asarray(mask[k], bool)
        d, se = d[m], se[m]
        rows.append(
            [
                np.mean(d >= tau_2),
                np.mean(d <= -tau_2),
                np.mean(classify_slow_tested(d, se, tau_2, z)),
                np.mean(classify_slow_tested(-d, se, tau_2, z)),
                d.size,
            ]
        )
    x = np.asarray(rows)
    w = x[:, 4] / x[:, 4].sum()
    ps, pm, pt, ptm = (float(np.sum(w * x[:, i])) for i in range(4))
    _, ps_se = _mean_se(x[:, 0])
    _, pm_se = _mean_se(x[:, 1])
    _, ex_se = _mean_se(x[:, 0] - x[:, 1])
    _, pt_se = _mean_se(x[:, 2])
    _, ptm_se = _mean_se(x[:, 3])
    ex = ps - pm
    return SlowFraction(
        rate=float(rate),
        n_particles=int(x[:, 4].sum()),
        n_configs=len(rows),
        p_slow=ps,
        p_slow_se=ps_se,
        p_mirror=pm,
        p_mirror_se=pm_se,
        excess=ex,
        excess_se=ex_se,
        z_excess=ex / ex_se if ex_se > 0 else float("nan"),
        p_tested=pt,
        p_tested_se=pt_se,
        p_tested_mirror=ptm,
        p_tested_mirror_se=ptm_se,
        z=float(z),
    )
