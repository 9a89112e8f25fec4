"""Best-fit local deformation of a group of particles (Falk & Langer 1998; Zeng, Yu & Wang 2025, Eq. 5-7).

For the particles of a cluster F at two times ``t ∓ Δt/2`` with positions relative to
the cluster centroid ``r_0``,

    X_ab = Σ_{i∈F} d_i,a(t + Δt/2) d_i,b(t - Δt/2),    Y_ab = Σ_{i∈F} d_i,a(t - Δt/2) d_i,b(t - Δt/2)   (Eq. 6-7)

the deformation gradient minimising the mean-square non-affine displacement is
``J = X Y^{-1}`` and the shear strain is ``γ_c = Σ_k X_xk Y^{-1}_ky - δ_xy = J_xy``
(Eq. 5).  Two readings of γ_c(t) are used (:func:`taulc.physics.clusters.life_cycle`):

* **incremental**: Eq. 6-7 as printed, between successive frames, increments summed.
  The sum is the time integral of the local velocity gradient, so for any cluster
  that moves with the surrounding flow it is ≈ γ̇ t by construction and cannot
  drop;
* **referenced to t_0**: ``t − Δt/2`` replaced by the cluster's configuration at
  t_0 (:func:`deformation_gradients`): the best-fit strain accumulated since t_0,
  which falls behind γ̇ (t − t_0) when the cluster's particles rearrange and lose the
  memory of their t_0 arrangement.

``D²_min`` (Falk & Langer's residual) comes with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["d2_min", "deformation_gradient", "deformation_gradients", "shear_strain_increment"]


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


def deformation_gradients(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``J_k = X_k Y^{-1}`` for one reference ``before (M, 3)`` and a stack ``after (K, M, 3)``.

    Vectorised form of :func:`deformation_gradient` (same particles, same centring);
    returns ``(K, 3, 3)``.
    """
    b = _centred(before)
    a = np.asarray(after, dtype=np.float64)
    if a.ndim != 3 or a.shape[1:] != b.shape:
        raise ValueError(f"after must be (K, {b.shape[0]}, 3), got {a.shape}")
    a = a - a.mean(axis=1, keepdims=True)
    x = np.einsum("kma,mb->kab", a, b)
    y_inv = np.linalg.inv(b.T @ b)
    return x @ y_inv


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
