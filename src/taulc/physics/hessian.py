r"""Analytic sparse Hessian of the Kob-Andersen pair potential in a tilted periodic cell.

Pair potential (Yu, Zeng & Wang 2025, Sec. II.A; :mod:`taulc.md.system`)
``φ(r) = 4 ε_αβ [(σ_αβ/r)^12 - (σ_αβ/r)^6] - φ(r_c)`` for ``r < r_c`` (both
cut-off modes: global ``r_c`` or ``r_c = cutoff·σ_αβ``).  The shift is a constant,
so it drops out of every derivative used here.

For a pair with separation vector ``r = r_j - r_i`` (minimum image or any
periodic image within the cut-off), ``n = r/|r|``, the 3x3 pair stiffness is

    K = φ''(r) n n^T + φ'(r)/r (I - n n^T)

and the Hessian ``M = ∂²U/∂x∂x`` gets ``M_ii += K``, ``M_jj += K``,
``M_ij = M_ji -= K``.  For the affine simple shear ``x -> x + γ y`` (flow x,
gradient y) of Kapteijns et al. 2021 Eq. A1 the pair vector changes by
``dr/dγ = r_y e_x``, so

    ∂U/∂γ      = Σ φ' r_x r_y / r
    ∂²U/∂γ²    = Σ φ'' (r_x r_y/r)² + φ'/r (r_y² - r_x² r_y²/r²)
    Ξ = ∂²U/∂γ∂x :  Ξ_j += K (r_y e_x),  Ξ_i -= K (r_y e_x).

Pairs come from :func:`taulc.structure.neighbors.iter_neighbor_blocks`
(vesin; all images; bounded memory), so nothing loops over particles or pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from taulc.md.system import SystemSpec
from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, iter_neighbor_blocks, validate_system

__all__ = ["PairTable", "Pairs", "assemble", "interacting_pairs", "hessian", "strain_derivatives"]


@dataclass(frozen=True)
class PairTable:
    """LJ parameters per species pair as (2, 2) arrays, from a :class:`SystemSpec`."""

    epsilon: np.ndarray
    sigma: np.ndarray
    cutoff: np.ndarray

    @classmethod
    def from_system(cls, system: SystemSpec) -> PairTable:
        key = {(0, 0): "bb", (0, 1): "bs", (1, 0): "bs", (1, 1): "ss"}
        eps = np.zeros((2, 2))
        sig = np.zeros((2, 2))
        rc = np.zeros((2, 2))
        for (a, b), p in key.items():
            eps[a, b] = system.epsilon[p]
            sig[a, b] = system.sigma[p]
            rc[a, b] = system.pair_cutoff(p)
        return cls(eps, sig, rc)

    @classmethod
    def kob_andersen(cls, cutoff: float = 2.5, cutoff_mode: str = "global") -> PairTable:
        """The KA 80:20 table (ε_bs = 1.5, σ_bs = 0.8, ε_ss = 0.5, σ_ss = 0.88)."""
        return cls.from_system(SystemSpec("ka", 1000, 1.2, 1.0, cutoff=cutoff, cutoff_mode=cutoff_mode))

    @property
    def max_cutoff(self) -> float:
        return float(self.cutoff.max())

    def derivatives(self, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(φ(r) shifted, φ'(r), φ''(r)) for species arrays ``a``, ``b``."""
        eps, sig, rc = self.epsilon[a, b], self.sigma[a, b], self.cutoff[a, b]
        s6 = (sig / r) ** 6
        s6c = (sig / rc) ** 6
        phi = 4.0 * eps * (s6 * s6 - s6) - 4.0 * eps * (s6c * s6c - s6c)
        d1 = 4.0 * eps * (-12.0 * s6 * s6 + 6.0 * s6) / r
        d2 = 4.0 * eps * (156.0 * s6 * s6 - 42.0 * s6) / (r * r)
        return phi, d1, d2


@dataclass
class Pairs:
    """Interacting pairs (each unordered pair and image once): ``vectors = r_j - r_i``."""

    i: np.ndarray  # (P,) int64
    j: np.ndarray  # (P,) int64
    vectors: np.ndarray  # (P, 3)
    distances: np.ndarray  # (P,)

    def __len__(self) -> int:
        return int(self.i.shape[0])


def interacting_pairs(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> Pairs:
    """All pairs with ``r < r_c(α, β)`` (half list, every periodic image), in neighbour blocks."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    out: list[tuple[np.ndarray, ...]] = []
    for block in iter_neighbor_blocks(pos, c, table.max_cutoff, max_pairs=max_pairs):
        keep = block.distances < table.cutoff[sp[block.i], sp[block.j]]
        if block.i_active is not None and block.j_active is not None:
            # z-slab blocks (large N): a pair between two slabs appears in both slabs' blocks,
            # once with each end active; keep it where the active end has the lower index
            ia, ja = block.i_active, block.j_active
            keep &= (ia & ja) | (ia & ~ja & (block.i < block.j)) | (~ia & ja & (block.j < block.i))
        out.append((block.i[keep].copy(), block.j[keep].copy(), block.vectors[keep].copy(), block.distances[keep].copy()))
        del block
    i, j, v, d = (np.concatenate(x) for x in zip(*out))
    return Pairs(i.astype(np.int64), j.astype(np.int64), v, d)


def _pair_stiffness(table: PairTable, species: np.ndarray, pairs: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(K (P,3,3), n (P,3), φ' (P,), φ'' (P,))."""
    r = pairs.distances
    n = pairs.vectors / r[:, None]
    _, d1, d2 = table.derivatives(species[pairs.i], species[pairs.j], r)
    nn = n[:, :, None] * n[:, None, :]
    k = d2[:, None, None] * nn + (d1 / r)[:, None, None] * (np.eye(3)[None] - nn)
    return k, n, d1, d2


def hessian(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    pairs: Pairs | None = None,
) -> sps.csr_matrix:
    """Hessian ``M = ∂²U/∂x∂x`` (3N x 3N CSR, row index ``3 a + α``), analytic."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    n = pos.shape[0]
    p = interacting_pairs(pos, sp, c, table) if pairs is None else pairs
    k, *_ = _pair_stiffness(table, sp, p)
    return assemble(n, p.i, p.j, k)


def assemble(n: int, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> sps.csr_matrix:
    """3N x 3N Hessian from pair stiffness blocks K (P, 3, 3): M_ii, M_jj += K; M_ij, M_ji -= K."""
    a3 = np.arange(3)
    ri = (3 * i[:, None, None] + a3[None, :, None]).repeat(3, axis=2)
    rj = (3 * j[:, None, None] + a3[None, :, None]).repeat(3, axis=2)
    ci = (3 * i[:, None, None] + a3[None, None, :]).repeat(3, axis=1)
    cj = (3 * j[:, None, None] + a3[None, None, :]).repeat(3, axis=1)
    rows = np.concatenate([ri.ravel(), rj.ravel(), ri.ravel(), rj.ravel()])
    cols = np.concatenate([ci.ravel(), cj.ravel(), cj.ravel(), ci.ravel()])
    kf = k.ravel()
    vals = np.concatenate([kf, kf, -kf, -kf])
    m = sps.coo_matrix((vals, (rows, cols)), shape=(3 * n, 3 * n)).tocsr()
    m.sum_duplicates()
    return m


@dataclass
class StrainDerivatives:
    """Affine simple-shear derivatives of U (Kapteijns et al. 2021, Eq. A1)."""

    dU: float  # ∂U/∂γ  (= V σ_xy)
    d2U: float  # ∂²U/∂γ² (Born term, times V)
    xi: np.ndarray  # (3N,) Ξ = ∂²U/∂γ∂x


def strain_derivatives(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    pairs: Pairs | None = None,
) -> StrainDerivatives:
    """∂U/∂γ, ∂²U/∂γ² and Ξ for ``x -> x + γ y`` (see module docstring)."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    p = interacting_pairs(pos, sp, c, table) if pairs is None else pairs
    k, _, d1, d2 = _pair_stiffness(table, sp, p)
    r = p.distances
    rx, ry = p.vectors[:, 0], p.vectors[:, 1]
    drdg = rx * ry / r
    du = float(np.sum(d1 * drdg))
    d2u = float(np.sum(d2 * drdg**2 + d1 / r * (ry**2 - drdg**2)))
    v = k[:, :, 0] * ry[:, None]  # K (r_y e_x)
    xi = np.zeros((pos.shape[0], 3))
    np.add.at(xi, p.j, v)
    np.subtract.at(xi, p.i, v)
    return StrainDerivatives(du, d2u, xi.ravel())
