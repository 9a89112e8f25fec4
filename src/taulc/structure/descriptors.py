r"""Per-particle g_l^m(s, r) descriptors, Eq. 9 of the core paper (Sec. IV.A)::

    g_{l,i}^m(s, r) = (1 / r²) Σ_{j ∈ s} exp[-(r - r_ij)² / 2δ²] Y_l^m(r_ij)

* r_ij = r_j - r_i (minimum image, or every image within reach when the box
  is small); Y_l^m real orthonormal, see :mod:`taulc.structure.harmonics`
  (Y_2^-2 ∝ xy/r², so g_2^-2 is odd under x -> -x);
* s ∈ {0 = big, 1 = small}; δ = 0.1; r = 0.3, 0.4, ..., 5.0 (48 values);
* the Gaussian is truncated to |r - r_ij| < k_t δ with k_t = 5 by default
  (``truncation``), so only pairs with r_ij < 5.0 + 5δ = 5.5 contribute.

The zeroth-generation feature vector of Eq. 10 is (g_0^0(s, r), g_2^-2(s, r))
flattened in (l m, s, r) order: 2 × 2 × 48 = 192 elements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taulc.structure.harmonics import parity, real_sph_harm
from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, NeighborBlock, iter_neighbor_blocks, validate_system
from taulc.structure.radial import RadialGrid, RadialSums

__all__ = ["GlmAccumulator", "glm_descriptors", "DEFAULT_LM", "DEFAULT_GRID"]

DEFAULT_LM: tuple[tuple[int, int], ...] = ((0, 0), (2, -2))
DEFAULT_GRID = RadialGrid(0.3, 0.1, 48)


class GlmAccumulator:
    """Accumulate Eq. 9 over neighbour blocks; ``result()`` -> (N, n_lm, 2, n_r)."""

    def __init__(
        self,
        species: np.ndarray,
        lm: Sequence[tuple[int, int]] = DEFAULT_LM,
        grid: RadialGrid = DEFAULT_GRID,
        delta: float = 0.1,
        truncation: float = 5.0,
    ) -> None:
        self.lm = [(int(l), int(m)) for l, m in lm]
        if not self.lm:
            raise ValueError("gl descriptor: empty (l, m) list")
        lmv = self.lm
        self.grid = grid
        self._sums = RadialSums(
            len(species),
            species,
            grid,
            delta,
            truncation,
            weights=lambda v: real_sph_harm(v, lmv),
            n_columns=len(lmv),
            parity=parity(lmv),
        )

    @property
    def cutoff(self) -> float:
        return self._sums.cutoff

    def consume(self, block: NeighborBlock) -> None:
        self._sums.consume(block)

    def result(self) -> np.ndarray:
        r = self.grid.values
        return self._sums.out / (r * r)


def glm_descriptors(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    lm: Sequence[tuple[int, int]] = DEFAULT_LM,
    grid: RadialGrid = DEFAULT_GRID,
    delta: float = 0.1,
    truncation: float = 5.0,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> np.ndarray:
    """g_{l,i}^m(s, r_k) of Eq. 9 for all particles: array (N, len(lm), 2, grid.n)."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    acc = GlmAccumulator(sp, lm, grid, delta, truncation)
    for block in iter_neighbor_blocks(pos, c, acc.cutoff, max_pairs=max_pairs):
        acc.consume(block)
    return acc.result()
