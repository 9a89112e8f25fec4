"""Coarse-graining of per-particle features, Eqs. 11-13.

    X_i^(n+1) = (1/Z_i) Σ_{j: r_ij < r_c} exp(-r_ij / r_c) X_j^(n),   Z_i = Σ_{j: r_ij < r_c} exp(-r_ij / r_c)

The sum includes the particle itself (r_ii = 0, weight 1) and every periodic
image of j within r_c (images of i itself too when r_c exceeds the box). The
operator is a row-stochastic scipy CSR matrix W (N, N), so X^(n+1) = W X^(n).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sps

from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, NeighborBlock, iter_neighbor_blocks, validate_system

__all__ = ["CoarseGrainAccumulator", "coarse_graining_matrix", "coarse_grain"]


class CoarseGrainAccumulator:
    """Collect the pairs r_ij < r_c from neighbour blocks and build W (see module docstring)."""

    def __init__(self, n_particles: int, rc: float = 4.0) -> None:
        if rc <= 0:
            raise ValueError(f"coarse-graining radius rc must be > 0, got {rc}")
        self.n = n_particles
        self.rc = float(rc)
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []

    @property
    def cutoff(self) -> float:
        return self.rc

    def consume(self, block: NeighborBlock) -> None:
        keep = block.distances < self.rc
        if block.i_active is not None and block.j_active is not None:
            keep &= block.i_active | block.j_active
        bi, bj = block.i[keep].astype(np.int32), block.j[keep].astype(np.int32)
        w = np.exp(-block.distances[keep] / self.rc)
        fi = slice(None) if block.i_active is None else block.i_active[keep]
        fj = slice(None) if block.j_active is None else block.j_active[keep]
        self._rows += [bi[fi], bj[fj]]
        self._cols += [bj[fi], bi[fj]]
        self._vals += [w[fi], w[fj]]

    def matrix(self) -> sps.csr_matrix:
        n = self.n
        rows = np.concatenate(self._rows + [np.arange(n, dtype=np.int32)])
        cols = np.concatenate(self._cols + [np.arange(n, dtype=np.int32)])
        vals = np.concatenate(self._vals + [np.ones(n)])
        self._rows, self._cols, self._vals = [], [], []
        w = sps.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
        z = np.asarray(w.sum(axis=1)).ravel()  # Z_i of Eq. 12 (>= 1: the particle itself)
        w.data /= np.repeat(z, np.diff(w.indptr))
        return w


def coarse_graining_matrix(
    positions: np.ndarray, cell: np.ndarray, rc: float = 4.0, *, max_pairs: int = DEFAULT_MAX_PAIRS
) -> sps.csr_matrix:
    """Row-normalised coarse-graining operator W of Eqs. 11-12 as a CSR matrix (N, N)."""
    pos, c, _ = validate_system(positions, cell)
    acc = CoarseGrainAccumulator(pos.shape[0], rc)
    for block in iter_neighbor_blocks(pos, c, rc, max_pairs=max_pairs):
        acc.consume(block)
    return acc.matrix()


def coarse_grain(x: np.ndarray, w: sps.spmatrix, generations: int = 2) -> np.ndarray:
    """Return (X^(0), X^(1), ..., X^(generations)) concatenated along axis 1 (Eq. 13).

    ``x`` is X^(0) with shape (N, F); ``w`` from :func:`coarse_graining_matrix`.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] != w.shape[0]:
        raise ValueError(f"coarse_grain: X must be (N, F) with N = {w.shape[0]}, got {x.shape}")
    if generations < 0:
        raise ValueError(f"generations must be >= 0, got {generations}")
    out = [x]
    for _ in range(generations):
        out.append(_spmm(w, out[-1]))
    return np.concatenate(out, axis=1)


def _spmm(w: sps.spmatrix, x: np.ndarray) -> np.ndarray:
    """W @ X; torch's (threaded) CSR kernel for float inputs, scipy otherwise. Same result to rounding."""
    if not sps.isspmatrix_csr(w) and not isinstance(w, sps.csr_array):
        w = sps.csr_matrix(w)
    if x.dtype in (np.float32, np.float64) and w.dtype == np.float64:
        try:
            import torch
        except ImportError:  # pragma: no cover
            return np.asarray(w @ x)
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            wt = torch.sparse_csr_tensor(
                torch.from_numpy(w.indptr.astype(np.int64)),
                torch.from_numpy(w.indices.astype(np.int64)),
                torch.from_numpy(w.data),
                size=w.shape,
                check_invariants=False,
            )
            return (wt @ xt).numpy()
    return np.asarray(w @ x)
