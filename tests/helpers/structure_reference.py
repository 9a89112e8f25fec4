"""Brute-force reference implementations for the structure tests (deliberately naive).

Independent of taulc.structure: explicit loops over centres and explicit periodic
images (no neighbour-list library), scipy's complex spherical harmonics converted
to the real convention documented in taulc.structure.harmonics.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.special as ss


def random_tilted_box(n: int, rho: float, tilt: float, rng: np.random.Generator, min_dist: float = 0.6):
    """Random positions (rejection of close pairs, brute-force min image) in a tilted cell."""
    length = (n / rho) ** (1.0 / 3.0)
    cell = np.array([[length, 0.0, 0.0], [tilt * length, length * 1.1, 0.0], [0.0, 0.0, length / 1.1]])
    pos = np.zeros((0, 3))
    while pos.shape[0] < n:
        p = rng.random(3) @ cell
        if pos.shape[0] == 0 or np.min(np.linalg.norm(all_images(pos - p, cell, 1.0), axis=-1)) > min_dist:
            pos = np.vstack([pos, p])
    species = (rng.random(n) < 0.3).astype(np.int64)
    return pos, species, cell


def all_images(vectors: np.ndarray, cell: np.ndarray, cutoff: float) -> np.ndarray:
    """vectors (..., 3) + every lattice shift that could bring them within cutoff -> (..., n_img, 3)."""
    vol = abs(np.linalg.det(cell))
    widths = [vol / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3])) for k in range(3)]
    reach = [int(math.ceil(cutoff / w)) + 1 for w in widths]
    shifts = np.array(list(itertools.product(*[range(-r, r + 1) for r in reach])), dtype=np.float64) @ cell
    return vectors[..., None, :] + shifts


def brute_pairs(pos: np.ndarray, cell: np.ndarray, cutoff: float):
    """Yield (i, j_array, vectors) for every centre i: all images of all j (incl. i) with 0 < r < cutoff."""
    n = pos.shape[0]
    for i in range(n):
        v = all_images(pos - pos[i], cell, cutoff)  # (N, n_img, 3)
        jj = np.broadcast_to(np.arange(n)[:, None], v.shape[:2])
        d = np.linalg.norm(v, axis=-1)
        keep = (d > 1e-12) & (d < cutoff)
        yield i, jj[keep], v[keep]


def real_ylm_scipy(v: np.ndarray, l: int, m: int) -> np.ndarray:
    r = np.linalg.norm(v, axis=-1)
    theta = np.arccos(np.clip(v[:, 2] / r, -1.0, 1.0))
    phi = np.arctan2(v[:, 1], v[:, 0])
    yc = ss.sph_harm_y(l, abs(m), theta, phi)
    if m == 0:
        return yc.real
    if m > 0:
        return math.sqrt(2.0) * (-1) ** m * yc.real
    return math.sqrt(2.0) * (-1) ** m * yc.imag


def brute_glm(pos, species, cell, lm, r_grid, delta=0.1, truncation=5.0):
    """Eq. 9 by brute force -> (N, len(lm), 2, len(r_grid))."""
    kd = truncation * delta
    cutoff = r_grid[-1] + kd
    out = np.zeros((pos.shape[0], len(lm), 2, len(r_grid)))
    for i, j, v in brute_pairs(pos, cell, cutoff):
        d = np.linalg.norm(v, axis=1)
        x = r_grid[None, :] - d[:, None]
        gauss = np.where(np.abs(x) < kd, np.exp(-(x**2) / (2 * delta**2)), 0.0)
        for c, (l, m) in enumerate(lm):
            y = real_ylm_scipy(v, l, m)
            for s in (0, 1):
                sel = species[j] == s
                out[i, c, s] = (gauss[sel] * y[sel, None]).sum(axis=0) / r_grid**2
    return out


def brute_coarse(pos, cell, x, rc=4.0, generations=2):
    """Eqs. 11-13 by brute force -> (X^(0), ..., X^(generations)) concatenated."""
    n = pos.shape[0]
    w = np.zeros((n, n))
    for i, j, v in brute_pairs(pos, cell, rc):
        d = np.linalg.norm(v, axis=1)
        for jj, dd in zip(j, d):
            w[i, jj] += math.exp(-dd / rc)
        w[i, i] += 1.0
    w /= w.sum(axis=1, keepdims=True)
    gens = [x]
    for _ in range(generations):
        gens.append(w @ gens[-1])
    return np.concatenate(gens, axis=1)
