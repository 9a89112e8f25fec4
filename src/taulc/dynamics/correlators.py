"""Equilibrium dynamical references: MSD, α2 (τ_2), F_s(q, t) (τ_α), χ4 (t_χ), S(q).

All correlators are computed from displacements ``(F, N, 3)`` sampled at
uniform times (non-affine displacements under shear, so that the overlap is
the flow-corrected one of Zeng, Yu & Wang 2025, Eq. 14), averaged over particles, over
several time origins (when the sampling is uniform) and over replicas.

* ``MSD(t) = <|Δr|²>``, ``α2(t) = 3<Δr⁴>/(5<Δr²>²) - 1`` (3D); τ_2 = time of the
  α2 peak (parabolic refinement in ln t).
* ``F_s(q, t) = <sin(q|Δr|)/(q|Δr|)>`` (exact isotropic average of
  ``cos(q·Δr)``); τ_α where ``F_s = 1/e`` (linear interpolation in ln t).
* ``χ4(t) = βV/N² [<Q²> - <Q>²]`` (Zeng, Yu & Wang 2025, Eq. 14) with the *self* overlap
  ``Q(t) = Σ_i w(|Δr̃_i(t)|)``, ``w = 1`` for ``r <= a`` (a = 0.25); the
  fluctuation is taken over time origins and replicas.  The distinct part of
  Eq. 14 is neglected (standard "self" χ4).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "Correlators",
    "log_lags",
    "compute_correlators",
    "alpha2_from_moments",
    "peak_time",
    "crossing_time",
    "structure_factor",
    "first_peak_q",
]


@dataclass
class Correlators:
    """Time-dependent correlators on a grid of lag times ``t``.

    ``msd, r4, alpha2, fs, overlap, chi4`` are ``(T,)``; ``n_samples`` is the number
    of (origin, replica) samples per lag.  Derived scalars are filled by
    :func:`compute_correlators`: ``tau_2, alpha2_max, tau_alpha, t_chi, chi4_max``.
    """

    t: np.ndarray
    msd: np.ndarray
    r4: np.ndarray
    alpha2: np.ndarray
    fs: np.ndarray
    overlap: np.ndarray
    chi4: np.ndarray
    n_samples: np.ndarray
    q: float
    a: float
    tau_2: float = float("nan")
    alpha2_max: float = float("nan")
    tau_alpha: float = float("nan")
    t_chi: float = float("nan")
    chi4_max: float = float("nan")
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-python dict (lists and floats), JSON serialisable."""
        out = {}
        for k, v in self.__dict__.items():
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out


def log_lags(n_frames: int, n_lags: int = 60) -> np.ndarray:
    """Unique integer lags ``1..n_frames-1``, quasi log-spaced (all small lags kept)."""
    if n_frames < 2:
        return np.zeros(0, dtype=np.int64)
    lags = np.unique(np.round(np.geomspace(1, n_frames - 1, n_lags)).astype(np.int64))
    return lags[(lags >= 1) & (lags <= n_frames - 1)]


def alpha2_from_moments(msd: np.ndarray, r4: np.ndarray, dim: int = 3) -> np.ndarray:
    """Non-Gaussian parameter ``α2 = d <r⁴> / ((d+2) <r²>²) - 1``."""
    msd = np.asarray(msd, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return dim * np.asarray(r4) / ((dim + 2) * msd * msd) - 1.0


def peak_time(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Time and height of the maximum of ``y(t)``, refined by a parabola in ``ln t``.

    Returns ``(nan, nan)`` when ``y`` has no finite values; a maximum at the
    first/last point is returned unrefined (with a warning).
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & (t > 0)
    if not ok.any():
        return float("nan"), float("nan")
    t, y = t[ok], y[ok]
    i = int(np.argmax(y))
    if i == 0 or i == y.size - 1:
        logger.warning("peak at the edge of the time window (t=%.4g); not refined", t[i])
        return float(t[i]), float(y[i])
    x = np.log(t[i - 1 : i + 2])
    c2, c1, c0 = np.polyfit(x, y[i - 1 : i + 2], 2)
    if c2 >= 0:
        return float(t[i]), float(y[i])
    xm = float(np.clip(-c1 / (2 * c2), x[0], x[2]))
    return float(np.exp(xm)), float(c0 + c1 * xm + c2 * xm * xm)


def crossing_time(t: np.ndarray, y: np.ndarray, level: float = float(np.exp(-1.0))) -> float:
    """First time a decaying ``y(t)`` falls to ``level`` (linear interpolation in ln t).

    Returns ``nan`` (with a warning) if ``y`` stays above ``level``.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    below = np.nonzero(y <= level)[0]
    if below.size == 0:
        logger.warning("correlator never decays to %.3f within t <= %.4g", level, t[-1])
        return float("nan")
    j = int(below[0])
    if j == 0:
        return float(t[0])
    lt0, lt1 = np.log(t[j - 1]), np.log(t[j])
    w = (y[j - 1] - level) / (y[j - 1] - y[j])
    return float(np.exp(lt0 + w * (lt1 - lt0)))


def _origins(n_frames: int, lag: int, max_origins: int) -> np.ndarray:
    n_avail = n_frames - lag
    if n_avail <= max_origins:
        return np.arange(n_avail)
    return np.unique(np.linspace(0, n_avail - 1, max_origins).astype(np.int64))


def compute_correlators(
    displacements: np.ndarray | Sequence[np.ndarray],
    times: np.ndarray,
    *,
    q: float = 7.25,
    a: float = 0.25,
    mask: np.ndarray | None = None,
    lags: np.ndarray | None = None,
    max_origins: int = 32,
    multi_origin: bool = True,
    temperature: float | None = None,
    volume: float | None = None,
) -> Correlators:
    """MSD, α2, F_s, overlap and χ4 averaged over particles, origins and replicas.

    Args:
        displacements: one ``(F, N, 3)`` array or a sequence of them (replicas),
            non-affine displacements or unwrapped positions (only differences
            between frames are used).
        times: ``(F,)`` frame times.
        q: wave number for F_s (first peak of S(q); 7.25 for KA at ρ = 1.2).
        a: overlap cut-off (0.25 σ for 3D MD, Zeng, Yu & Wang 2025).
        mask: ``(N,)`` bool, particles to include (e.g. one species).
        lags: frame lags (default :func:`log_lags`).
        max_origins: time origins per lag (evenly spread) when ``multi_origin``.
        multi_origin: use several origins; needs uniform sampling, otherwise
            only the origin at frame 0 is used.
        temperature, volume: for the βV/N² prefactor of χ4 (Eq. 14); if either is
            missing, ``χ4 = N_sel var(Q/N_sel)`` is returned instead.

    Returns:
        :class:`Correlators` with τ_2 (α2 peak), τ_α (F_s = 1/e) and t_χ (χ4 peak).
    """
    trajs = [displacements] if isinstance(displacements, np.ndarray) else list(displacements)
    times = np.asarray(times, dtype=np.float64)
    f = times.size
    for x in trajs:
        if x.ndim != 3 or x.shape[0] != f or x.shape[2] != 3:
            raise ValueError(f"displacements must be (F={f}, N, 3), got {x.shape}")
    dt = np.diff(times)
    uniform = dt.size > 0 and np.allclose(dt, dt[0], rtol=1e-6, atol=1e-12)
    if multi_origin and not uniform:
        logger.info("non-uniform frame times: using the single origin at frame 0")
        multi_origin = False
    if lags is None:
        lags = log_lags(f) if multi_origin else np.arange(1, f)
    lags = np.asarray(lags, dtype=np.int64)
    sel = slice(None) if mask is None else np.asarray(mask, dtype=bool)
    n_lag = lags.size
    msd, r4, fs, ov, var_q, ns = (np.zeros(n_lag) for _ in range(6))
    n_sel = None
    for li, lag in enumerate(lags):
        org = _origins(f, int(lag), max_origins) if multi_origin else np.array([0])
        if not multi_origin:
            org = org[org + lag < f]
        q_samples = []
        s2 = s4 = sf = 0.0
        cnt = 0
        for x in trajs:
            d = np.asarray(x[org + lag][:, sel], dtype=np.float64)
            d -= np.asarray(x[org][:, sel], dtype=np.float64)
            r2 = np.einsum("onk,onk->on", d, d)
            r = np.sqrt(r2)
            n_sel = r2.shape[1]
            s2 += r2.sum()
            s4 += (r2 * r2).sum()
            sf += np.sinc(q * r / np.pi).sum()
            q_samples.append((r <= a).sum(axis=1).astype(np.float64))
            cnt += r2.size
        qs = np.concatenate(q_samples)
        msd[li], r4[li], fs[li] = s2 / cnt, s4 / cnt, sf / cnt
        ov[li] = qs.mean() / n_sel
        var_q[li] = qs.var() if qs.size > 1 else np.nan
        ns[li] = qs.size
    if n_sel is None:
        raise ValueError("no lags to evaluate (need at least 2 frames)")
    if temperature is not None and volume is not None:
        chi4 = volume / (temperature * n_sel**2) * var_q
    else:
        chi4 = var_q / n_sel
    t = times[lags] - times[0]
    out = Correlators(
        t=t,
        msd=msd,
        r4=r4,
        alpha2=alpha2_from_moments(msd, r4),
        fs=fs,
        overlap=ov,
        chi4=chi4,
        n_samples=ns,
        q=float(q),
        a=float(a),
        meta={"multi_origin": bool(multi_origin), "n_particles": int(n_sel), "n_replicas": len(trajs)},
    )
    out.tau_2, out.alpha2_max = peak_time(t, out.alpha2)
    out.tau_alpha = crossing_time(t, fs)
    if np.isfinite(chi4).sum() >= 3:
        out.t_chi, out.chi4_max = peak_time(t, chi4)
    return out


def structure_factor(
    positions: np.ndarray,
    cell: np.ndarray,
    *,
    q_max: float = 12.0,
    dq: float = 0.1,
    max_per_bin: int = 300,
    mask: np.ndarray | None = None,
    seed: int = 0,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Static structure factor ``S(q) = |Σ_j exp(-i q·r_j)|²/N`` on the reciprocal lattice.

    Wave vectors are the reciprocal-lattice vectors of the (possibly tilted)
    ``cell`` (rows = lattice vectors) with ``|q| <= q_max``, binned in shells of
    width ``dq``; at most ``max_per_bin`` random vectors per shell (half space,
    ``S(q) = S(-q)``).  Returns ``(q_centres, S)`` for non-empty shells.
    """
    r = np.asarray(positions, dtype=np.float64)
    if mask is not None:
        r = r[np.asarray(mask, dtype=bool)]
    recip = 2.0 * np.pi * np.linalg.inv(np.asarray(cell, dtype=np.float64)).T  # rows b_i
    nmax = np.ceil(q_max / np.linalg.norm(recip, axis=1).min()).astype(int) + 1
    g = np.arange(-nmax, nmax + 1)
    hkl = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    # half space: first non-zero index positive
    key = hkl[:, 0] * (4 * nmax + 3) ** 2 + hkl[:, 1] * (4 * nmax + 3) + hkl[:, 2]
    hkl = hkl[key > 0]
    qv = hkl @ recip
    qn = np.linalg.norm(qv, axis=1)
    keep = qn <= q_max
    qv, qn = qv[keep], qn[keep]
    b = np.floor(qn / dq).astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(qn.size)
    b_o = b[order]
    # rank within bin after shuffling -> keep first max_per_bin of each bin
    srt = np.argsort(b_o, kind="stable")
    bs = b_o[srt]
    first = np.searchsorted(bs, bs, side="left")
    rank = np.arange(bs.size) - first
    chosen = order[srt[rank < max_per_bin]]
    qv, b = qv[chosen], b[chosen]
    sq = np.empty(qv.shape[0])
    for i in range(0, qv.shape[0], chunk):
        ph = r @ qv[i : i + chunk].T  # (N, c)
        sq[i : i + chunk] = (np.cos(ph).sum(0) ** 2 + np.sin(ph).sum(0) ** 2) / r.shape[0]
    nb = np.bincount(b)
    sb = np.bincount(b, weights=sq, minlength=nb.size)
    nz = nb > 0
    centres = (np.arange(nb.size) + 0.5) * dq
    return centres[nz], sb[nz] / nb[nz]


def first_peak_q(positions: np.ndarray, cell: np.ndarray, *, q_range: tuple[float, float] = (4.0, 10.0), **kwargs) -> float:
    """Position of the main peak of S(q) in ``q_range`` (default 4-10 σ⁻¹).

    The peak is refined by a parabola through the three highest neighbouring shells.
    """
    q, s = structure_factor(positions, cell, q_max=q_range[1] + 0.5, **kwargs)
    w = (q >= q_range[0]) & (q <= q_range[1])
    if w.sum() < 3:
        raise ValueError(f"too few wave vectors in q range {q_range}; box too small?")
    q, s = q[w], s[w]
    # smooth over 3 shells to be robust to sparse shells
    ss = np.convolve(s, np.ones(3) / 3, mode="same")
    i = int(np.clip(np.argmax(ss), 1, q.size - 2))
    c2, c1, _ = np.polyfit(q[i - 1 : i + 2], ss[i - 1 : i + 2], 2)
    return float(-c1 / (2 * c2)) if c2 < 0 else float(q[i])
