"""Fields on periodic grids spanning a (tilted) cell: deposition, exponential-kernel convolution,
periodic local maxima and periodic connected components.

A grid of ``n`` nodes per lattice vector has its nodes at fractional coordinates
``(k + 1/2)/n``; neighbours along the three fractional axes, so periodicity (and the
Lees-Edwards image shift of a sheared cell, which is the tilt of its lattice vector b)
is exact.  Used by the Appendix A grid clusters of Yu, Zeng & Wang 2025
(:mod:`taulc.analysis.clusters`) and by the cage-jump cluster demarcation of Zeng, Yu &
Wang 2025 (:mod:`taulc.physics.clusters`).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "deposit_cic",
    "grid_index",
    "grid_positions",
    "local_maxima",
    "periodic_kernel",
    "periodic_kernel_fft",
    "periodic_label",
]

_IMAGES = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.float64)


def grid_positions(cell: np.ndarray, n: int) -> np.ndarray:
    """Cartesian positions of the centres of an ``n³`` grid of cells spanning ``cell``."""
    f = (np.arange(n) + 0.5) / n
    s = np.stack(np.meshgrid(f, f, f, indexing="ij"), axis=-1)
    return s @ cell


@functools.lru_cache(maxsize=8)
def periodic_kernel_fft(cell_bytes: bytes, m: int, length: float) -> np.ndarray:
    """rFFT of :func:`periodic_kernel`, cached: the maps convolve several fields on the same box."""
    cell = np.frombuffer(cell_bytes, dtype=np.float64).reshape(3, 3)
    out = np.fft.rfftn(periodic_kernel(cell, m, length))
    out.setflags(write=False)
    return out


def periodic_kernel(cell: np.ndarray, m: int, length: float) -> np.ndarray:
    """Periodic kernel Σ_images exp(-|r|/l) on the fine grid offsets (k/M, wrapped)."""
    k = np.arange(m) / m
    k = np.where(k >= 0.5, k - 1.0, k)
    s = np.stack(np.meshgrid(k, k, k, indexing="ij"), axis=-1).reshape(-1, 3)
    base = s @ cell
    out = np.zeros(len(base))
    for n in _IMAGES:
        d = base + n @ cell
        out += np.exp(-np.sqrt(np.einsum("ij,ij->i", d, d)) / length)
    return out.reshape(m, m, m)


def deposit_cic(frac: np.ndarray, values: np.ndarray, m: int) -> np.ndarray:
    """Cloud-in-cell deposition of ``values`` at fractional positions onto nodes (k + 1/2)/M."""
    u = frac * m - 0.5
    i0 = np.floor(u).astype(np.int64)
    w1 = u - i0
    grid = np.zeros(m**3)
    for corner in itertools.product((0, 1), repeat=3):
        c = np.asarray(corner)
        idx = (i0 + c) % m
        w = np.prod(np.where(c == 1, w1, 1.0 - w1), axis=1)
        flat = (idx[:, 0] * m + idx[:, 1]) * m + idx[:, 2]
        grid += np.bincount(flat, weights=w * values, minlength=m**3)
    return grid.reshape(m, m, m)


def local_maxima(g: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """Indices ``(K, 3)`` of periodic grid points whose value exceeds all 26 neighbours (Appendix A).

    ``region`` (bool, same shape) restricts centres to the region of interest (Fig. 30).
    """
    is_max = np.ones(g.shape, dtype=bool)
    for off in itertools.product((-1, 0, 1), repeat=3):
        if off == (0, 0, 0):
            continue
        is_max &= g > np.roll(g, shift=off, axis=(0, 1, 2))
    if region is not None:
        is_max &= region
    return np.argwhere(is_max)


def grid_index(frac: np.ndarray, n: int) -> np.ndarray:
    """Index ``(..., 3)`` of the grid cell (node) containing fractional coordinates ``frac``."""
    return np.floor(np.mod(frac, 1.0) * n).astype(np.int64) % n


def periodic_label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Face-connected (6-neighbour) components of a boolean grid with periodic wrap on all axes.

    Returns ``(labels, n)`` with labels 1..n (0 = background), like ``scipy.ndimage.label``.
    """
    lab, n = ndimage.label(mask)
    if n == 0:
        return lab, 0
    a, b = [], []
    for ax in range(mask.ndim):
        lo = np.take(lab, 0, axis=ax)
        hi = np.take(lab, -1, axis=ax)
        both = (lo > 0) & (hi > 0)
        a.append(lo[both])
        b.append(hi[both])
    ia, ib = np.concatenate(a), np.concatenate(b)
    graph = coo_matrix((np.ones(ia.size), (ia - 1, ib - 1)), shape=(n, n))
    m, comp = connected_components(graph, directed=False)
    out = np.zeros_like(lab)
    out[lab > 0] = comp[lab[lab > 0] - 1] + 1
    return out, int(m)
