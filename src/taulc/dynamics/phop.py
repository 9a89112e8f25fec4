"""Hop indicator p_hop of Candelier et al., as used by Sharma, Nandi & Bhattacharyya, "Identifying
structural signature of dynamical heterogeneity via the local softness parameter" (Eq. 2).

For particle i and frame t, with the half windows ``U = [t - t_R/2, t]`` and
``V = [t, t + t_R/2]`` of a window t_R,

    p_hop(i, t) = sqrt( <(r_i - <r_i>_U)²>_V^{1/2}  <(r_i - <r_i>_V)²>_U^{1/2} )          (Eq. 2)

small while the particle rattles in one cage and large when U and V sit in two
different cages.  Two conventions (``form``):

* ``"length"`` (default): Sharma, Nandi & Bhattacharyya's Eq. 2 as printed, a length
  (compared with a root-mean-square displacement; their t_R = Δt = 15 LJ time units);
* ``"length2"``: Candelier et al.'s form without the inner square roots,
  ``sqrt(<…>_V <…>_U)``, a length² (the square of the above; compared with an MSD-like
  threshold such as l_c²).  Under shear pass the
Yamamoto-Onuki non-affine displacements so that the flow itself is not a hop.

Vectorised with prefix sums over frames (``<(r - m)²>_B = Q_B/n - 2 m·S_B/n + |m|²``),
chunked over particles so the working set stays bounded; frames closer than t_R/2 to
either end are NaN.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

__all__ = ["FORMS", "T_R_SHARMA", "hop_frames", "phop", "phop_reference", "window_frames"]


def window_frames(t_r: float, dt_frame: float) -> int:
    """Half window h (frames) of p_hop: ``round(t_R / 2 / dt)``, at least 1."""
    if not (np.isfinite(t_r) and t_r > 0 and dt_frame > 0):
        raise ValueError(f"p_hop window t_R must be > 0 and the frame interval > 0, got {t_r}, {dt_frame}")
    return max(1, int(round(0.5 * t_r / dt_frame)))


def _phop_chunk(x: np.ndarray, h: int) -> np.ndarray:
    """p_hop for ``x (F, n, 3)`` with half window ``h`` frames (U, V have h + 1 frames each)."""
    f = x.shape[0]
    out = np.full(x.shape[:2], np.nan)
    if f < 2 * h + 1:
        return out
    s = np.zeros((f + 1,) + x.shape[1:])
    np.cumsum(x, axis=0, out=s[1:])
    q = np.zeros((f + 1, x.shape[1]))
    np.cumsum(np.einsum("fnk,fnk->fn", x, x), axis=0, out=q[1:])
    t = np.arange(h, f - h)
    m = float(h + 1)
    su, qu = s[t + 1] - s[t - h], q[t + 1] - q[t - h]  # U = [t-h, t]
    sv, qv = s[t + h + 1] - s[t], q[t + h + 1] - q[t]  # V = [t, t+h]
    mu, mv = su / m, sv / m
    a = qv / m - 2.0 * np.einsum("tnk,tnk->tn", mu, sv) / m + np.einsum("tnk,tnk->tn", mu, mu)
    b = qu / m - 2.0 * np.einsum("tnk,tnk->tn", mv, su) / m + np.einsum("tnk,tnk->tn", mv, mv)
    out[t] = np.sqrt(np.maximum(a * b, 0.0))
    return out


#: Sharma, Nandi & Bhattacharyya's window Δt = t_R (LJ time units)
T_R_SHARMA = 15.0
FORMS = ("length", "length2")


def phop(
    trajectory: np.ndarray, times: np.ndarray, t_r: float = T_R_SHARMA, *, chunk_size: int = 256, form: str = "length"
) -> np.ndarray:
    """p_hop (Eq. 2) of every particle at every frame, ``(F, N)`` (NaN within t_R/2 of the ends).

    Args:
        trajectory: ``(F, N, 3)`` positions (non-affine displacements under shear); any
            array supporting slicing (e.g. ``np.memmap``), read ``chunk_size`` particles
            at a time.
        times: ``(F,)`` uniformly spaced frame times.
        t_r: window t_R (LJ time); default 15, Sharma et al.'s Δt.
        form: ``"length"`` (Eq. 2 as printed, default) or ``"length2"`` (Candelier's, its square).
    """
    if form not in FORMS:
        raise ValueError(f"field 'form' must be one of {FORMS}, got {form!r}")
    times = np.asarray(times, dtype=np.float64)
    if trajectory.ndim != 3 or trajectory.shape[2] != 3 or trajectory.shape[0] != times.shape[0]:
        raise ValueError(f"trajectory must be (F, N, 3) with F = len(times); got {trajectory.shape}, {times.shape}")
    dt = np.diff(times)
    if dt.size == 0 or not np.allclose(dt, dt[0], rtol=1e-6):
        raise ValueError("p_hop needs at least 2 uniformly spaced frames")
    h = window_frames(t_r, float(dt[0]))
    n = trajectory.shape[1]
    out = np.empty((times.shape[0], n))
    for a in range(0, n, chunk_size):
        b = min(n, a + chunk_size)
        out[:, a:b] = _phop_chunk(np.asarray(trajectory[:, a:b], dtype=np.float64), h)
    return np.sqrt(out) if form == "length" else out


def phop_reference(trajectory: np.ndarray, h: int) -> np.ndarray:
    """Eq. 2 literally, Python loops over frames and particles (test reference)."""
    f, n, _ = trajectory.shape
    out = np.full((f, n), np.nan)
    for i in range(n):
        r = trajectory[:, i]
        for t in range(h, f - h):
            u, v = r[t - h : t + 1], r[t : t + h + 1]
            a = np.mean(np.sum((v - u.mean(0)) ** 2, axis=1))
            b = np.mean(np.sum((u - v.mean(0)) ** 2, axis=1))
            out[t, i] = np.sqrt(a * b)
    return out


def hop_frames(p: np.ndarray, threshold: float, min_separation: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Hops as local maxima of ``p (F, N)`` above ``threshold``: (frame, particle) arrays.

    A frame is a hop when p exceeds the threshold and is the maximum within
    ``± min_separation`` frames of the same particle.
    """

    filled = np.where(np.isfinite(p), p, -np.inf)
    peak = maximum_filter1d(filled, size=2 * min_separation + 1, axis=0, mode="constant", cval=-np.inf)
    fr, pa = np.nonzero((filled >= threshold) & (filled == peak))
    order = np.lexsort((fr, pa))
    return fr[order], pa[order]
