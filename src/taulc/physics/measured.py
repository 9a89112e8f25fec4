"""Measured inputs of the rheology models (Yu, Zeng & Wang 2025, Sec. III, V and App. B).

* :func:`gr_first_minimum` -- first minimum of the total g(r): the neighbour shell of
  App. B and the cage radius whose sphere is the activation volume Ω (Sec. V.A).
* :func:`msd_timescales` -- from the equilibrium MSD: the ballistic time t_str
  (grid-cell unloading, Sec. III.C) and the attempt time Γ⁻¹ (entry into the
  plateau, Sec. V.A).
* :func:`neighbor_keeping` -- the bond-breaking correlation C_i(t) = n_i(t|0)/n_i(0)
  (App. B) along a (sheared) trajectory, minimum image under the tilt.
* :func:`structural_distortion` -- Y(r_k) of Eq. 25-26: particle mean of the generation-2
  coarse-grained g_2^-2(r_k) without species (Fig. 25).
* :func:`green_kubo_viscosity` -- η_eq = V/T ∫⟨p_xy(0) p_xy(t)⟩dt from equilibrium
  stress series (optional; the demo uses the Newtonian plateau instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from taulc.dynamics.cage_jumps import lc2_from_msd
from taulc.structure.coarse import coarse_grain, coarse_graining_matrix
from taulc.structure.descriptors import glm_descriptors
from taulc.structure.neighbors import minimum_image, neighbor_list
from taulc.structure.radial import RadialGrid

__all__ = [
    "GofR",
    "pair_distribution",
    "gr_first_minimum",
    "cage_volume",
    "MsdTimescales",
    "msd_timescales",
    "neighbor_keeping",
    "green_kubo_viscosity",
    "structural_distortion",
    "distortion_peaks",
]


@dataclass
class GofR:
    """Total pair distribution ``g`` on bin centres ``r``."""

    r: np.ndarray
    g: np.ndarray


def pair_distribution(
    positions: np.ndarray | list[np.ndarray], cell: np.ndarray | list[np.ndarray], r_max: float = 3.0, dr: float = 0.02
) -> GofR:
    """Total g(r) of one or several configurations (all species; vesin pairs, tilted cells)."""
    pos_list = positions if isinstance(positions, list) else [positions]
    cell_list = cell if isinstance(cell, list) else [cell] * len(pos_list)
    edges = np.arange(0.0, r_max + dr, dr)
    hist = np.zeros(edges.size - 1)
    norm = 0.0
    for pos, c in zip(pos_list, cell_list):
        n = pos.shape[0]
        pl = neighbor_list(pos, c, r_max, full=False)
        hist += 2.0 * np.histogram(pl.distances, bins=edges)[0]
        vol = abs(np.linalg.det(c))
        norm += n * (n / vol)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return GofR(r=0.5 * (edges[1:] + edges[:-1]), g=hist / (norm * shell))


def gr_first_minimum(gr: GofR, window: int = 7) -> float:
    """Position of the first minimum after the first (highest-near-contact) peak of g(r).

    g is smoothed by a Savitzky-Golay filter of ``window`` bins before the search.
    """
    g = savgol_filter(gr.g, window, 2) if gr.g.size > window else gr.g
    i_peak = int(np.argmax(g))
    d = np.diff(g[i_peak:])
    up = np.nonzero(d > 0)[0]
    if up.size == 0:
        raise ValueError("g(r) has no minimum after its first peak within r_max")
    return float(gr.r[i_peak + int(up[0])])


def cage_volume(r_min: float) -> float:
    """Ω of Sec. V.A: volume of the sphere whose radius is the first minimum of g(r)."""
    return float(4.0 / 3.0 * np.pi * r_min**3)


@dataclass
class MsdTimescales:
    """Ballistic time ``t_str``, attempt time ``gamma_inv`` (= Γ⁻¹) and the plateau MSD."""

    t_str: float
    gamma_inv: float
    plateau_msd: float


def msd_timescales(t: np.ndarray, msd: np.ndarray, temperature: float, mass: float = 1.0) -> MsdTimescales:
    """t_str and Γ⁻¹ from the equilibrium MSD (Sec. III.C and V.A).

    The plateau is located at the minimum of the log-slope d ln MSD / d ln t after the
    ballistic regime (same rule as the cage size l_c² in ``lc2_from_msd``).  Γ⁻¹ is the
    time of that point (the particle "enters the plateau").  t_str is the time the
    ballistic law ``3 T t² / m`` needs to reach the plateau MSD, i.e. the duration of
    the ballistic regime "prior to the onset of the plateau".
    """
    t = np.asarray(t, dtype=np.float64)
    m = np.asarray(msd, dtype=np.float64)
    plateau = lc2_from_msd(t, m, method="plateau")  # MSD at the log-slope minimum
    gamma_inv = float(t[np.flatnonzero(m == plateau)[0]])
    return MsdTimescales(
        t_str=float(np.sqrt(mass * plateau / (3.0 * temperature))), gamma_inv=gamma_inv, plateau_msd=float(plateau)
    )


def neighbor_keeping(unwrapped: np.ndarray, cells: np.ndarray, r_cut: float, frames: np.ndarray | None = None) -> np.ndarray:
    """C_i(t) = n_i(t|0) / n_i(0) of App. B for every frame and particle.

    Args:
        unwrapped: ``(F, N, 3)`` unwrapped positions (frame 0 = time origin).
        cells: ``(F, 3, 3)`` cell of every frame (tilt changes under shear).
        r_cut: neighbour distance (first minimum of g(r)).
        frames: subset of frame indices to evaluate (default all).

    Returns:
        ``(len(frames), N)`` float; particles without neighbours at t = 0 get NaN.
    """
    u = np.asarray(unwrapped, dtype=np.float64)
    f_idx = np.arange(u.shape[0]) if frames is None else np.asarray(frames)
    pl = neighbor_list(u[0], cells[0], r_cut, full=False)
    i, j = pl.i, pl.j
    keep = i != j
    i, j = i[keep], j[keep]
    n = u.shape[1]
    n0 = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    out = np.empty((f_idx.size, n))
    for k, f in enumerate(f_idx):  # loop over frames, vectorised over pairs
        d = minimum_image(u[f, j] - u[f, i], cells[f])
        kept = (np.einsum("ij,ij->i", d, d) < r_cut * r_cut).astype(np.float64)
        nk = np.bincount(i, weights=kept, minlength=n) + np.bincount(j, weights=kept, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[k] = np.where(n0 > 0, nk / np.maximum(n0, 1), np.nan)
    return out


def green_kubo_viscosity(
    pxy: np.ndarray, dt: float, volume: float, temperature: float, t_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Running Green-Kubo integral η(t) = V/T ∫_0^t ⟨p_xy(0) p_xy(t')⟩ dt'.

    Args:
        pxy: ``(S, M)`` or ``(M,)`` equilibrium stress series (S independent runs), spacing dt.
        t_max: largest lag.

    Returns:
        ``(t, eta_running)``; read η_eq on the plateau of the running integral.
        The autocorrelation uses all time origins (FFT, unbiased normalisation).
    """
    p = np.atleast_2d(np.asarray(pxy, dtype=np.float64))
    p = p - p.mean(axis=1, keepdims=True)
    m = p.shape[1]
    n_lag = min(m - 1, int(round(t_max / dt))) + 1
    nfft = 1 << int(np.ceil(np.log2(2 * m)))
    f = np.fft.rfft(p, nfft, axis=1)
    acf = np.fft.irfft(f * np.conj(f), nfft, axis=1)[:, :n_lag] / (m - np.arange(n_lag))
    acf = acf.mean(axis=0)
    run = np.concatenate([[0.0], np.cumsum(0.5 * (acf[1:] + acf[:-1])) * dt])
    return np.arange(n_lag) * dt, volume / temperature * run


def structural_distortion(
    positions: np.ndarray, cell: np.ndarray, r_min: float = 0.5, r_max: float = 5.0, dr: float = 0.05, rc: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Y(r_k) of Eq. 25-26: ``(r_k, Y)`` from one configuration.

    g_2^-2(r) of Eq. 9 with all particles as one species, coarse-grained twice (Eq. 11-12,
    radius ``rc``), averaged over particles.  Under shear its peaks grow with the strain of the
    local configurations (Eq. 22).
    """

    grid = RadialGrid.from_range(r_min, r_max, dr)
    pos = np.asarray(positions, dtype=np.float64)
    g = glm_descriptors(pos, np.zeros(pos.shape[0], dtype=np.int64), cell, lm=((2, -2),), grid=grid)
    x0 = g[:, 0, 0, :]  # all particles counted as species 0
    x2 = coarse_grain(x0, coarse_graining_matrix(pos, cell, rc), generations=2)[:, -x0.shape[1] :]
    return grid.values, x2.mean(axis=0)


def distortion_peaks(r: np.ndarray, y: np.ndarray, n_peaks: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Positions and magnitudes |Y| of the first ``n_peaks`` local maxima of |Y(r)| (Fig. 25)."""
    a = np.abs(np.asarray(y))
    i = np.flatnonzero((a[1:-1] > a[:-2]) & (a[1:-1] >= a[2:])) + 1
    i = i[:n_peaks]
    return np.asarray(r)[i], a[i]
