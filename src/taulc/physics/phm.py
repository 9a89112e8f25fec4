r"""Pseudo-harmonic modes (PHM) of an inherent state (Zeng, Yu & Wang 2025, Methods Eqs. 15-18).

A PHM π is a local minimum of the cost ``C(z) = (M : zz)² / Σ_<ij> (z_ij·z_ij)²``
(Eq. 15; ``z_ij = z_j - z_i``, sum over interacting pairs), found with the
fixed-point map (Eq. 17)

    F(π) = M⁻¹ ζ(π) / sqrt(ζ(π) · M⁻² · ζ(π)),
    ζ_k(π) = Σ_<ij> (δ_jk - δ_ik) (π_ij · π_ij) π_ij                Eq. 18

iterated until the cost of Eq. 15 changes by less than ``tol`` (relative) per
step (π has unit norm; F is odd, so the sign is kept; the mode itself can keep
drifting slowly inside a near-degenerate subspace, e.g. the direction of a
particle in a cubic cage, so the cost is the robust criterion).  For a region with the outside held fixed (as for a convective cluster
in that paper) the Hessian is restricted to the region's coordinates and the
outside displacements are zero, so the restricted Hessian has no zero modes.
The mode's stiffness is ``λ = π·M·π`` and its localisation is measured by the
participation ratio ``(Σ|π_k|²)² / (N Σ|π_k|⁴)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from taulc.physics.elasticity import HessianSolver

log = logging.getLogger(__name__)

__all__ = ["PseudoHarmonicMode", "pseudo_harmonic_mode"]


@dataclass
class PseudoHarmonicMode:
    """A PHM: unit displacement field (N, 3), zero outside the region."""

    mode: np.ndarray  # (N, 3)
    stiffness: float  # λ = π·M·π
    participation: float  # over the whole system
    iterations: int
    converged: bool


def _zeta(pi: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Eq. 18 for the whole system: (N, 3)."""
    pij = pi[j] - pi[i]
    w = np.einsum("pa,pa->p", pij, pij)[:, None] * pij
    z = np.zeros_like(pi)
    np.add.at(z, j, w)
    np.subtract.at(z, i, w)
    return z


def _cost(m: sps.spmatrix, pi: np.ndarray, i: np.ndarray, j: np.ndarray) -> float:
    """Eq. 15: C(π) = (π·M·π)² / Σ_<ij> (π_ij·π_ij)²."""
    f = pi.ravel()
    pij = pi[j] - pi[i]
    return float((f @ (m @ f)) ** 2 / np.sum(np.einsum("pa,pa->p", pij, pij) ** 2))


def pseudo_harmonic_mode(
    m: sps.spmatrix,
    i: np.ndarray,
    j: np.ndarray,
    *,
    region: np.ndarray | None = None,
    init: np.ndarray | None = None,
    seed: int = 0,
    tol: float = 1e-6,
    max_iter: int = 1000,
) -> PseudoHarmonicMode:
    """One PHM by Eq. 17 from ``init`` (N, 3) (default: Gaussian random in the region).

    Args:
        m: Hessian (3N x 3N) of the inherent state (with the region's outside relaxed and held fixed).
        i, j: interacting pairs (each once).
        region: boolean mask (N,) of the particles free to move; None = the whole configuration.
    """
    n = m.shape[0] // 3
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    if region is None:
        free = np.ones(n, dtype=bool)
        solver = HessianSolver(m)
    else:
        free = np.asarray(region, dtype=bool)
        if free.shape != (n,) or not free.any():
            raise ValueError(f"PHM: 'region' must be a non-empty boolean mask of shape ({n},)")
        if free.all():
            solver = HessianSolver(m)
        else:
            dof = (3 * np.nonzero(free)[0][:, None] + np.arange(3)).ravel()
            solver = HessianSolver(sps.csr_matrix(m)[dof][:, dof], pin=None)
    dof = (3 * np.nonzero(free)[0][:, None] + np.arange(3)).ravel()
    if init is None:
        pi = np.zeros((n, 3))
        pi[free] = np.random.default_rng(seed).normal(size=(int(free.sum()), 3))
    else:
        pi = np.array(init, dtype=np.float64).reshape(n, 3)
        pi[~free] = 0.0
    pi /= np.linalg.norm(pi)
    converged = False
    it = 0
    cost = _cost(m, pi, i, j)
    for it in range(1, max_iter + 1):  # noqa: B007 - the iteration count is returned
        zeta = _zeta(pi, i, j).ravel()[dof]
        z = solver.solve(zeta)
        new = np.zeros(3 * n)
        new[dof] = z / np.linalg.norm(z)
        pi = new.reshape(n, 3)
        new_cost = _cost(m, pi, i, j)
        change = abs(new_cost - cost) / abs(cost)
        cost = new_cost
        if change < tol:
            converged = True
            break
    if not converged:
        log.warning("PHM: not converged after %d iterations (relative cost change %.2e)", max_iter, change)
    flat = pi.ravel()
    amp2 = np.einsum("ka,ka->k", pi, pi)
    return PseudoHarmonicMode(pi, float(flat @ (m @ flat)), float(amp2.sum() ** 2 / (n * np.sum(amp2**2))), it, converged)
