r"""Athermal shear modulus G and dipole stiffness κ of an inherent state.

Kapteijns, Richard, Bouchbinder, Schrøder & Lerner 2021, "Does mesoscopic
elasticity control viscous slowing down in glassforming liquids?", App. A:

* Eq. A1   ``G = (1/V) [∂²U/∂γ² - Ξ · M⁻¹ · Ξ]``, ``Ξ = ∂²U/∂γ∂x`` (affine Born term
  minus the non-affine relaxation), for simple shear ``x -> x + γ y``;
* Eq. A2   ``d̂_ij = (1/√2) ∂r_ij/∂x`` (unit force dipole on the pair i, j);
* Eq. A3   ``z_ij = M⁻¹ · d̂_ij``;
* Eq. A4   ``κ_ij = d̂·M⁻¹·d̂ / d̂·M⁻²·d̂``;
* Sec. III.C: the local ``κ_i`` is the arithmetic mean of κ_ij over i's interacting pairs.

Translational zero modes: ``M`` is singular along the three uniform
translations.  Every right-hand side used here (dipoles, Ξ) is orthogonal to
them, so ``M⁻¹`` means the pseudo-inverse ``M⁺``.  :class:`HessianSolver`
pins one particle (removes its 3 rows/columns; the reduced matrix is positive
definite for a stable inherent state), solves, and projects the translations
out of the solution; this is exactly ``M⁺ b`` for any ``b`` that sums to zero.
Each batch of solutions is checked: ``‖M x - b‖ / ‖b‖ <= tol`` (default
1e-8), with one step of iterative refinement before giving up.

κ for all pairs at once: with ``Z_a = M⁺ e_a`` (3 columns per particle) and
``W_a = M⁺ Z_a``, the 3x3 blocks ``G_ab = (M⁺)_ab`` and ``S_ab = (M⁺²)_ab``
give ``d̂·M⁻¹·d̂ = ½ n·(G_ii + G_jj - 2 G_ij)·n`` and the same with S, so
6N solves (batched, one factorisation) replace one solve per pair (~40 N).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from tqdm.auto import tqdm

from taulc.physics.hessian import Pairs, PairTable, hessian, interacting_pairs, strain_derivatives
from taulc.structure.neighbors import validate_system

log = logging.getLogger(__name__)

__all__ = ["HessianSolver", "ShearModulus", "shear_modulus", "DipoleStiffness", "dipole_stiffness", "DENSE_MAX_DOF"]

#: Largest reduced dimension 3N - 3 factorised densely by ``backend="auto"`` (~1.2 GB).
DENSE_MAX_DOF = 12_000


class UnstableHessianError(ValueError):
    """The Hessian is not positive definite on the translation complement."""


class HessianSolver:
    """Factorise ``M`` once (one particle pinned) and solve ``M x = b`` for batches of ``b``.

    Args:
        m: Hessian (3N x 3N sparse, symmetric, rows ``3a + α``).
        backend: ``dense`` (LAPACK Cholesky of the reduced matrix; at N = 1500 its
            factor is as dense as SuperLU's), ``sparse`` (SuperLU, minimum-degree
            ordering on M + M^T) or ``auto`` (dense up to :data:`DENSE_MAX_DOF`).
        tol: stated relative residual ``‖M x - b‖ / ‖b‖`` every solution must meet.
        pin: the particle whose 3 coordinates are held fixed; ``None`` for a matrix without
            translational zero modes (a region with its surroundings held fixed).
    """

    def __init__(self, m: sps.spmatrix, backend: str = "auto", tol: float = 1e-8, pin: int | None = 0) -> None:
        m = sps.csr_matrix(m)
        if m.shape[0] != m.shape[1] or m.shape[0] % 3:
            raise ValueError(f"Hessian must be square with 3N rows, got {m.shape}")
        self.m = m
        self.n = m.shape[0] // 3
        self.tol = float(tol)
        self.pin = pin
        keep = np.ones(3 * self.n, dtype=bool)
        if pin is not None:
            keep[3 * pin : 3 * pin + 3] = False
        self.keep = np.nonzero(keep)[0]
        red = m[self.keep][:, self.keep]
        if backend == "auto":
            backend = "dense" if red.shape[0] <= DENSE_MAX_DOF else "sparse"
        if backend not in ("dense", "sparse"):
            raise ValueError(f"field 'backend' must be auto, dense or sparse; got {backend!r}")
        self.backend = backend
        if backend == "dense":
            try:
                self._cho = sla.cho_factor(red.toarray(), lower=True, overwrite_a=True, check_finite=False)
            except np.linalg.LinAlgError as exc:
                raise UnstableHessianError(
                    "Hessian is not positive definite once translations are pinned: the configuration "
                    "is not a stable inherent state (minimise it first) or holds a rattler"
                ) from exc
        else:
            self._lu = spla.splu(red.tocsc(), permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
        self.max_residual = 0.0

    def _raw(self, b: np.ndarray) -> np.ndarray:
        x = np.zeros_like(b)
        rhs = b[self.keep]
        if self.backend == "dense":
            x[self.keep] = sla.cho_solve(self._cho, rhs, check_finite=False)
        else:
            x[self.keep] = self._lu.solve(rhs)
        return x if self.pin is None else _project(x)

    def solve(self, b: np.ndarray) -> np.ndarray:
        """Minimum-norm solution ``x = M⁺ P b`` (P removes translations from b), shape of ``b``."""
        b = np.asarray(b, dtype=np.float64)
        one = b.ndim == 1
        bb = b.reshape(3 * self.n, -1).copy()
        if self.pin is not None:
            bb = _project(bb)
        x = self._raw(bb)
        res = self.residual(x, bb)
        if res.max(initial=0.0) > self.tol:
            x += self._raw(bb - self.m @ x)  # one step of iterative refinement
            res = self.residual(x, bb)
            if res.max(initial=0.0) > self.tol:
                raise UnstableHessianError(
                    f"Hessian solve: relative residual {res.max():.2e} exceeds tol={self.tol:g} "
                    "(ill-conditioned or unstable inherent state)"
                )
        self.max_residual = max(self.max_residual, float(res.max(initial=0.0)))
        return x.ravel() if one else x

    def pseudo_inverse(self, chunk: int = 512) -> np.ndarray:
        """Dense ``M⁺`` (3N x 3N) from the Cholesky factor (LAPACK potri), every column checked.

        Only for the dense backend; memory 3 x (3N)² doubles.
        """
        if self.backend != "dense" or self.pin is None:
            raise ValueError("pseudo_inverse needs the dense backend of a matrix with a pinned particle")
        inv, info = sla.lapack.dpotri(self._cho[0], lower=1)
        if info != 0:
            raise UnstableHessianError(f"LAPACK dpotri failed (info={info})")
        inv = np.tril(inv) + np.tril(inv, -1).T
        n3 = 3 * self.n
        g = np.zeros((n3, n3))
        g[np.ix_(self.keep, self.keep)] = inv
        del inv
        _project(g)  # columns: remove translations from every solution
        _project(g.T)  # rows, so that g = P R P is symmetric
        for a in range(0, n3, chunk):  # M g = P, column by column (stated tolerance)
            cols = slice(a, min(n3, a + chunk))
            p = -np.full((n3, cols.stop - cols.start), 1.0 / self.n) * (
                (np.arange(n3)[:, None] % 3) == (np.arange(cols.start, cols.stop)[None, :] % 3)
            )
            p[np.arange(cols.start, cols.stop), np.arange(cols.stop - cols.start)] += 1.0
            res = self.residual(g[:, cols], p)
            self.max_residual = max(self.max_residual, float(res.max()))
        if self.max_residual > self.tol:
            raise UnstableHessianError(
                f"Hessian pseudo-inverse: relative residual {self.max_residual:.2e} exceeds tol={self.tol:g}"
            )
        return g

    def residual(self, x: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Relative residual ``‖M x - b‖ / ‖b‖`` per column."""
        r = np.linalg.norm(self.m @ x - b, axis=0)
        nb = np.linalg.norm(b, axis=0)
        return r / np.where(nb > 0, nb, 1.0)


def _project(x: np.ndarray) -> np.ndarray:
    """Remove the uniform translation (per Cartesian direction) from (3N, k) columns, in place."""
    k = x.shape[1]
    v = x.reshape(-1, 3, k)
    v -= v.mean(axis=0, keepdims=True)
    return x


def _prepare(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    solver: HessianSolver | None,
    pairs: Pairs | None,
):
    """Validated (positions, cell, species), the interacting pairs and a solver (built if not given)."""
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    p = interacting_pairs(pos, sp, c, table) if pairs is None else pairs
    if solver is None:
        solver = HessianSolver(hessian(pos, sp, c, table, p))
    return pos, c, sp, p, solver


@dataclass
class ShearModulus:
    """Eq. A1: ``G = born - nonaffine`` (all divided by V); ``stress`` = (1/V) ∂U/∂γ = σ_xy."""

    G: float
    born: float
    nonaffine: float
    stress: float
    nonaffine_displacement: np.ndarray  # (N, 3) dx/dγ = -M⁺ Ξ


def shear_modulus(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    *,
    solver: HessianSolver | None = None,
    pairs: Pairs | None = None,
) -> ShearModulus:
    """Athermal shear modulus of an inherent state (Kapteijns et al. 2021, Eq. A1)."""
    pos, c, sp, p, solver = _prepare(positions, species, cell, table, solver, pairs)
    vol = abs(float(np.linalg.det(c)))
    der = strain_derivatives(pos, sp, c, table, p)
    z = solver.solve(der.xi)
    na = float(der.xi @ z) / vol
    born = der.d2U / vol
    return ShearModulus(born - na, born, na, der.dU / vol, -z.reshape(-1, 3))


@dataclass
class DipoleStiffness:
    """κ_ij (Eq. A4) of every interacting pair and the local κ_i (mean over i's pairs)."""

    i: np.ndarray  # (P,)
    j: np.ndarray  # (P,)
    kappa_pairs: np.ndarray  # (P,)
    kappa_local: np.ndarray  # (N,)
    max_residual: float


def dipole_stiffness(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    table: PairTable,
    *,
    solver: HessianSolver | None = None,
    pairs: Pairs | None = None,
    batch: int = 128,
    progress: bool = False,
    dense_bytes: float = 1.5e9,
) -> DipoleStiffness:
    """κ_ij for every interacting pair (Eqs. A2-A4).

    Dense backend with ``3 (3N)² x 8 <= dense_bytes`` (N <= ~2600 at the default): M⁺ and M⁺²
    as dense matrices.  Otherwise 6N batched solves, memory O(3N x 6 batch); ``dense_bytes=0``
    forces this path.
    """
    pos, _, _, p, solver = _prepare(positions, species, cell, table, solver, pairs)
    n = pos.shape[0]
    if np.any(p.i == p.j):  # a particle and its own image (box < 2 r_c): no dipole
        keep = p.i != p.j
        p = Pairs(p.i[keep], p.j[keep], p.vectors[keep], p.distances[keep])
    nvec = p.vectors / p.distances[:, None]
    if solver.backend == "dense" and 3 * (3 * n) ** 2 * 8 <= dense_bytes:
        # all Green's blocks at once: M⁺ by potri, M⁺² by one GEMM (about half the flops of 6N solves)
        g = solver.pseudo_inverse()
        s2 = g @ g
        g4, s4 = g.reshape(n, 3, n, 3), s2.reshape(n, 3, n, 3)
        ar = np.arange(n)
        gdiag, sdiag = g4[ar, :, ar, :], s4[ar, :, ar, :]
        gcross = np.einsum("pa,pab,pb->p", nvec, g4[p.j, :, p.i, :], nvec)
        scross = np.einsum("pa,pab,pb->p", nvec, s4[p.j, :, p.i, :], nvec)
        del g, s2, g4, s4
        return _kappa(n, p, nvec, gdiag, sdiag, gcross, scross, solver.max_residual)
    gdiag = np.zeros((n, 3, 3))
    sdiag = np.zeros((n, 3, 3))
    gcross = np.zeros(len(p))
    scross = np.zeros(len(p))
    order = np.argsort(p.i, kind="stable")  # pairs grouped by their first particle
    starts = np.searchsorted(p.i[order], np.arange(n + 1))
    nb = max(1, int(batch))
    for a0 in tqdm(range(0, n, nb), desc="kappa solves", unit="batch", disable=not progress, total=math.ceil(n / nb)):
        a = np.arange(a0, min(n, a0 + nb))
        b = len(a)
        rhs = np.zeros((3 * n, 3 * b))
        cols = np.arange(3 * b)
        rhs[(3 * a[:, None] + np.arange(3)).ravel(), cols] = 1.0
        z = solver.solve(rhs)  # columns 3k+β: M⁺ e_{a_k, β}
        w = solver.solve(z)
        zr = z.reshape(n, 3, b, 3)  # [particle c, α, batch k, β] = (M⁺)_{cα, a_k β}
        wr = w.reshape(n, 3, b, 3)
        kk = np.arange(b)
        gdiag[a] = zr[a, :, kk, :]
        sdiag[a] = wr[a, :, kk, :]
        sel = order[starts[a0] : starts[a0 + b]]  # pairs whose i is in this batch
        if sel.size:
            k_of = p.i[sel] - a0
            blk_g = zr[p.j[sel], :, k_of, :]  # (M⁺)_{j i} (3x3)
            blk_s = wr[p.j[sel], :, k_of, :]
            nn = nvec[sel]
            gcross[sel] = np.einsum("pa,pab,pb->p", nn, blk_g, nn)
            scross[sel] = np.einsum("pa,pab,pb->p", nn, blk_s, nn)
        del z, w, zr, wr, rhs
    return _kappa(n, p, nvec, gdiag, sdiag, gcross, scross, solver.max_residual)


def _kappa(
    n: int,
    p: Pairs,
    nvec: np.ndarray,
    gdiag: np.ndarray,
    sdiag: np.ndarray,
    gcross: np.ndarray,
    scross: np.ndarray,
    max_residual: float,
) -> DipoleStiffness:
    """Eq. A4 from the 3x3 blocks of M⁺ (g) and M⁺² (s): κ = n·(g_ii+g_jj-2g_ij)·n / (same with s)."""
    gi = np.einsum("pa,pab,pb->p", nvec, gdiag[p.i], nvec)
    gj = np.einsum("pa,pab,pb->p", nvec, gdiag[p.j], nvec)
    si = np.einsum("pa,pab,pb->p", nvec, sdiag[p.i], nvec)
    sj = np.einsum("pa,pab,pb->p", nvec, sdiag[p.j], nvec)
    num = gi + gj - 2.0 * gcross
    den = si + sj - 2.0 * scross
    kappa = num / den
    return DipoleStiffness(p.i, p.j, kappa, local_mean(n, p.i, p.j, kappa), max_residual)


def local_mean(n: int, i: np.ndarray, j: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-particle arithmetic mean of pair values over the pairs a particle belongs to."""
    s = np.bincount(i, values, n) + np.bincount(j, values, n)
    c = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    return np.where(c > 0, s / np.maximum(c, 1), np.nan)
