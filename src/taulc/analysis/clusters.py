"""Circling slow/fast clusters with the grid method (core paper, Appendix A, Eq. A1, Fig. 30).

1. The (possibly tilted) periodic box is divided into ``n_grid`` cells along each
   lattice vector (side L/20 by default).
2. Every grid point i gets the convolution of Eq. A1,
   ``g_i = Σ_j v_j exp(-r_ij/l_cg) / Σ_j exp(-r_ij/l_cg)`` with l_cg = L/20,
   summed over all particles j (and all periodic images).
3. Centres are grid points whose g exceeds that of all 26 neighbours (inside the
   region of interest, Fig. 30), and each member particle is assigned to the
   nearest centre (minimum image under the tilt).

Eq. A1 is evaluated with FFTs: particle values are deposited (cloud-in-cell) on a
grid ``oversample`` times finer than the cluster grid, convolved with the periodic
kernel (all images within one box, so the tilt is exact) and read off at the
cluster grid points. Cost O(M³ log M + N) and O(M³) memory, M = n_grid·oversample;
no particle-particle or particle-grid matrix is formed. :func:`eq_a1_direct` is the
brute-force reference (explicit images, chunked) used by the tests.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from taulc.structure.periodic_grid import deposit_cic as _deposit
from taulc.structure.periodic_grid import grid_positions, local_maxima
from taulc.structure.periodic_grid import periodic_kernel_fft as _kernel_fft

log = logging.getLogger(__name__)

__all__ = [
    "GridField",
    "Clusters",
    "eq_a1_field",
    "eq_a1_direct",
    "local_maxima",
    "nearest_centre",
    "circle_clusters",
    "minimum_image",
]

_IMAGES = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.float64)


def _box_length(cell: np.ndarray) -> float:
    """L of Appendix A: cube root of the volume (the edge length for a cubic box)."""
    return float(abs(np.linalg.det(cell))) ** (1.0 / 3.0)


def minimum_image(d: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Shortest periodic image of Cartesian displacements ``d (..., 3)`` (rows of ``cell`` = lattice vectors).

    Fractional wrapping followed by a search over the 27 neighbouring images, which
    is exact for any reasonably shaped (tilted) cell.
    """
    inv = np.linalg.inv(cell)
    s = d @ inv
    s -= np.round(s)
    base = s @ cell
    best = base
    best_r2 = np.einsum("...k,...k->...", base, base)
    for n in _IMAGES:
        if not n.any():
            continue
        cand = base + n @ cell
        r2 = np.einsum("...k,...k->...", cand, cand)
        better = r2 < best_r2
        if better.any():
            best = np.where(better[..., None], cand, best)
            best_r2 = np.where(better, r2, best_r2)
    return best


@dataclass
class GridField:
    """Eq. A1 on a fine periodic grid ``fine (M, M, M)`` (fractional nodes at (k + 1/2)/M).

    ``coarse`` is the field at the cluster grid points (cell centres of the n_grid³ grid).
    """

    fine: np.ndarray
    cell: np.ndarray
    n_grid: int
    oversample: int
    length: float

    @property
    def coarse(self) -> np.ndarray:
        o = self.oversample
        h = (o - 1) // 2
        return self.fine[h::o, h::o, h::o]

    def coarse_positions(self) -> np.ndarray:
        """Cartesian positions ``(n, n, n, 3)`` of the cluster grid points."""
        return grid_positions(self.cell, self.n_grid)

    def fine_positions(self) -> np.ndarray:
        return grid_positions(self.cell, self.fine.shape[0])


def eq_a1_field(
    positions: np.ndarray,
    cell: np.ndarray,
    values: np.ndarray,
    *,
    n_grid: int = 20,
    length: float | None = None,
    oversample: int = 3,
) -> GridField:
    """Eq. A1, ``g = Σ_j v_j e^{-r/l} / Σ_j e^{-r/l}`` on a periodic grid, via FFT.

    ``length`` defaults to L/20 (L = V^{1/3}); ``oversample`` (odd) sets the fine grid
    used for the deposition, so that cluster grid centres are fine-grid nodes.
    """
    positions = np.asarray(positions, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3 or len(values) != len(positions):
        raise ValueError(f"positions must be (N, 3) and values (N,), got {positions.shape} and {values.shape}")
    if oversample < 1 or oversample % 2 == 0:
        raise ValueError(f"oversample must be odd and >= 1, got {oversample}")
    length = float(length) if length else _box_length(cell) / 20.0
    m = n_grid * oversample
    frac = (positions @ np.linalg.inv(cell)) % 1.0
    kf = _kernel_fft(np.ascontiguousarray(cell).tobytes(), m, length)
    num = np.fft.irfftn(np.fft.rfftn(_deposit(frac, values, m)) * kf, s=(m, m, m))
    den = np.fft.irfftn(np.fft.rfftn(_deposit(frac, np.ones(len(values)), m)) * kf, s=(m, m, m))
    return GridField(fine=num / np.maximum(den, 1e-300), cell=cell, n_grid=n_grid, oversample=oversample, length=length)


def eq_a1_direct(
    positions: np.ndarray, cell: np.ndarray, values: np.ndarray, points: np.ndarray, length: float, chunk: int = 256
) -> np.ndarray:
    """Brute-force Eq. A1 at Cartesian ``points`` (explicit sum over 27 images; reference)."""
    positions = np.asarray(positions, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    out = np.empty(len(points))
    shifts = _IMAGES @ cell
    for a in range(0, len(points), chunk):
        p = points[a : a + chunk]
        num = np.zeros(len(p))
        den = np.zeros(len(p))
        for sh in shifts:
            d = p[:, None, :] - (positions[None, :, :] + sh)
            w = np.exp(-np.sqrt(np.einsum("ijk,ijk->ij", d, d)) / length)
            num += w @ values
            den += w.sum(1)
        out[a : a + chunk] = num / den
    return out


def nearest_centre(points: np.ndarray, centres: np.ndarray, cell: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centre of every point (periodic, tilted) and the distance to it."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    if len(centres) == 0:
        return np.full(len(points), -1, dtype=np.int64), np.full(len(points), np.inf)
    lab = np.empty(len(points), dtype=np.int64)
    dist = np.empty(len(points))
    step = max(1, chunk // max(1, len(centres)))
    for a in range(0, len(points), step):
        d = minimum_image(points[a : a + step, None, :] - centres[None, :, :], cell)
        r = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
        lab[a : a + step] = np.argmin(r, axis=1)
        dist[a : a + step] = r[np.arange(len(r)), lab[a : a + step]]
    return lab, dist


@dataclass
class Clusters:
    """Result of :func:`circle_clusters`.

    ``centres`` (K, 3) Cartesian; ``centre_index`` (K, 3) grid indices; ``labels`` (N,)
    cluster of each member particle (-1 for non-members); ``field`` the Eq. A1 grid.
    """

    centres: np.ndarray
    centre_index: np.ndarray
    labels: np.ndarray
    field: GridField

    @property
    def n_clusters(self) -> int:
        return len(self.centres)

    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels[self.labels >= 0], minlength=self.n_clusters)


def circle_clusters(
    positions: np.ndarray,
    cell: np.ndarray,
    values: np.ndarray,
    members: np.ndarray,
    *,
    region: np.ndarray | None = None,
    field: GridField | None = None,
    n_grid: int = 20,
    length: float | None = None,
    oversample: int = 3,
) -> Clusters:
    """Appendix A: Eq. A1 convolution of ``values``, centres = local maxima, members -> nearest centre.

    For fast clusters pass ``-values`` (centres = local minima of the original field).
    ``region`` (bool on the n_grid³ grid) keeps only centres inside the region of
    interest; if it leaves none, the global maximum inside the region (or overall)
    is used so that every member is assigned.
    """
    if field is None:
        field = eq_a1_field(positions, cell, values, n_grid=n_grid, length=length, oversample=oversample)
    g = field.coarse
    idx = local_maxima(g, region)
    if len(idx) == 0 and np.any(members):
        pool = np.where(region, g, -np.inf) if region is not None and region.any() else g
        idx = np.array([np.unravel_index(int(np.argmax(pool)), g.shape)])
    centres = field.coarse_positions()[tuple(idx.T)] if len(idx) else np.zeros((0, 3))
    labels = np.full(len(positions), -1, dtype=np.int64)
    members = np.asarray(members, dtype=bool)
    if members.any() and len(centres):
        labels[members], _ = nearest_centre(np.asarray(positions)[members], centres, cell)
    return Clusters(centres=centres, centre_index=idx, labels=labels, field=field)
