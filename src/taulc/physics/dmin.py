r"""Inherent-structure minimal displacement IS D_min (Yu, Gao, Gao & Samwer, Methods Eqs. 2-3).

Particles of one species are identical, so the displacement between two
inherent structures A (at t0) and B (at t0 + t) is taken over the optimal
one-to-one assignment σ of B's particles to A's particles of the same species:

    C_ij = |r_i^B - r_j^A|²  (minimum image under the tilt)          Eq. 2
    IS D_min = [ (1/N) min_σ Σ_i C_{i σ(i)} ]^{1/2}                    Eq. 3

The paper solves the dense N x N assignment (``linear_sum_assignment``,
memory O(N²)).  Here each species' cost matrix is sparse: only pairs closer
than ``radius`` are candidates (vesin neighbour list on the union of both
configurations in the common cell), solved by SciPy's
``min_weight_full_bipartite_matching`` (LAPJVsp).  If no full matching exists
among the candidates the radius is doubled, so the result equals the dense
optimum whenever the optimal assignment moves no particle farther than the
final radius (the dense reference in the tests checks this).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from taulc.structure.neighbors import minimum_image, neighbor_list, validate_system

log = logging.getLogger(__name__)

__all__ = ["MinimalDisplacement", "is_dmin"]


@dataclass
class MinimalDisplacement:
    """IS D_min of Eq. 3 with the per-particle vectors and the assignment."""

    dmin: float  # Eq. 3
    vectors: np.ndarray  # (N, 3) r_i^B - r_{σ(i)}^A (minimum image), in B's particle order
    assignment: np.ndarray  # (N,) σ: B particle i <- A particle σ(i)
    labelled_rmsd: float  # the same without reassignment (σ = identity)
    radius: float  # candidate radius finally used


def _match(a: np.ndarray, b: np.ndarray, cell: np.ndarray, radius: float) -> np.ndarray | None:
    """σ for one species (B index -> A index), or None when the candidates admit no full matching."""
    n = len(a)
    pts = np.concatenate([a, b])
    pl = neighbor_list(pts, cell, radius, full=True)
    sel = (pl.i >= n) & (pl.j < n)  # B particle (row) -> A particle (column)
    rows, cols = pl.i[sel] - n, pl.j[sel]
    d2 = pl.distances[sel] ** 2
    # +1 keeps zero costs as explicit edges; every row takes one edge, so the optimum is unchanged
    cost = sps.csr_matrix((d2 + 1.0, (rows, cols)), shape=(n, n))
    try:
        _, col = min_weight_full_bipartite_matching(cost)
    except ValueError:
        return None
    return col


def is_dmin(
    positions_a: np.ndarray,
    positions_b: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    *,
    radius: float = 1.0,
    max_radius: float | None = None,
) -> MinimalDisplacement:
    """IS D_min between inherent structures A and B (same cell, same species array).

    Args:
        radius: initial candidate radius (doubled until every species has a full matching).
        max_radius: give up beyond this (default: half the shortest cell width).
    """
    pa, c, sp = validate_system(positions_a, cell, species)
    pb, _, _ = validate_system(positions_b, cell)
    assert sp is not None
    if pa.shape != pb.shape:
        raise ValueError(f"IS D_min: positions must have the same shape, got {pa.shape} and {pb.shape}")
    from taulc.structure.neighbors import perpendicular_widths  # noqa: PLC0415

    limit = 0.5 * float(perpendicular_widths(c).min()) if max_radius is None else float(max_radius)
    sigma = np.arange(len(pa))
    r = float(radius)
    for s in np.unique(sp):
        idx = np.nonzero(sp == s)[0]
        while True:
            col = _match(pa[idx], pb[idx], c, min(r, limit))
            if col is not None:
                break
            if r >= limit:
                raise ValueError(
                    f"IS D_min: no full assignment of species {s} within radius {limit:.3g}; "
                    "are A and B inherent structures of the same system?"
                )
            log.debug("IS D_min: species %d has no full matching within %.3g, doubling the radius", s, r)
            r *= 2.0
        sigma[idx] = idx[col]
    vec = minimum_image(pb - pa[sigma], c)
    lab = minimum_image(pb - pa, c)
    n = len(pa)
    return MinimalDisplacement(
        float(np.sqrt(np.einsum("ij,ij->", vec, vec) / n)), vec, sigma,
        float(np.sqrt(np.einsum("ij,ij->", lab, lab) / n)), min(r, limit),
    )
