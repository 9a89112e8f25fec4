"""Best-fit local deformation of a group of particles (Falk & Langer 1998; Zeng, Yu & Wang 2025, Eq. 5-7).

For the particles of a cluster F at two times ``t ∓ Δt/2`` with positions relative to
the cluster centroid ``r_0``,

    X_ab = Σ_{i∈F} d_i,a(t + Δt/2) d_i,b(t - Δt/2),    Y_ab = Σ_{i∈F} d_i,a(t - Δt/2) d_i,b(t - Δt/2)   (Eq. 6-7)

the deformation gradient minimising the mean-square non-affine displacement is
``J = X Y^{-1}`` and the shear strain is ``γ_c = Σ_k X_xk Y^{-1}_ky - δ_xy = J_xy``
(Eq. 5).  Summing the increments over successive intervals gives the accumulated
strain γ_c(t) of the paper's Fig. 2a (it grows as γ̇ t for a cluster that follows the
flow and drops when the cluster yields).  ``D²_min`` (Falk & Langer's residual) comes
with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["d2_min", "deformation_gradient", "shear_strain_increment"]


def _centred(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3 or x.shape[0] < 4:
        raise ValueError(f"Falk-Langer needs (M >= 4, 3) relative positions, got {x.shape}")
    return x - x.mean(axis=0)


def deformation_gradient(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """J = X Y^{-1} (Eq. 5-7) from positions ``(M, 3)`` of the same particles before and after.

    Positions must be continuous (unwrapped, or minimum-image vectors to a common
    reference that are then displaced by the particles' own displacements).
    """
    b = _centred(before)
    a = _centred(after)
    if a.shape != b.shape:
        raise ValueError(f"before {b.shape} and after {a.shape} must hold the same particles")
    x = a.T @ b
    y = b.T @ b
    return np.linalg.solve(y.T, x.T).T  # X Y^{-1} (Y symmetric)


def shear_strain_increment(before: np.ndarray, after: np.ndarray) -> float:
    """γ_c of Eq. 5: the xy component of ``J - 1``."""
    return float(deformation_gradient(before, after)[0, 1])


def d2_min(before: np.ndarray, after: np.ndarray) -> float:
    """Falk-Langer residual ``Σ_i |d_i(after) - J d_i(before)|² / M`` of the best affine fit."""
    b = _centred(before)
    a = _centred(after)
    j = deformation_gradient(before, after)
    r = a - b @ j.T
    return float(np.einsum("ij,ij->", r, r) / len(r))
