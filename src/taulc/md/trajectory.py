"""Recorded MD trajectories and the Yamamoto-Onuki non-affine displacement.

Under simple shear ``u_x = γ̇ (y - ylo)`` (flow x, gradient y), the
non-affine displacement of particle i since the time origin is

    Δr̃_i(t) = r_i(t) - r_i(0) - e_x ∫_0^t γ̇(t') (y_i(t') - ylo) dt'

with r_i the *unwrapped* position (Yamamoto & Onuki; Zeng et al. Methods).
The integral is accumulated frame by frame (trapezoid rule on the sampled
frames, or the exact per-time-step sum when the engine provides it); the
comoving shortcut ``x - γ(t) y`` is not used because it drifts whenever a
particle changes its y.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taulc.md.configuration import Configuration


@dataclass
class Trajectory:
    """Frames sampled every ``sample_every`` steps from a (possibly sheared) run.

    Attributes:
        times: ``(F,)`` time since the origin (frame 0 at t = 0).
        unwrapped: ``(F, N, 3)`` unwrapped positions (atom-id order), or None
            when positions were not recorded.
        nonaffine: ``(F, N, 3)`` Yamamoto-Onuki non-affine displacement since t0.
        stress_xy: ``(F,)`` virial p_xy of Eq. 1 (η = -⟨p_xy⟩/γ̇).  Frame 0 is
            instantaneous; frame f > 0 is the average over ``(t_{f-1}, t_f]``
            (every ``stress_every``-th MD step, default 5).
        rate: ``(F,)`` shear rate in force during the interval ending at frame f
            (frame 0: rate in force from t0 on).
        final: configuration at the last frame.
        meta: seeds, system, protocol, sample interval, ...
        temperature: ``(F,)`` kinetic temperature of the peculiar velocities
            (3N - 3 degrees of freedom).
        potential_energy: ``(F,)`` potential energy per particle.
        strain: ``(F,)`` accumulated strain ∫γ̇dt since t0.
        tilt: ``(F,)`` xy tilt of the cell (jumps by -Lx at box flips).
        initial: configuration at frame 0 (positions + peculiar velocities).
        atom_stress_xy: ``(F, N)`` per-particle shear stress σ_i,xy (Zeng, Yu & Wang
            2025 Eq. 2, a stress: ``Σ_i σ_i Ω_i / V = -stress_xy`` per frame; see
            :mod:`taulc.md.atomic_stress`), averaged like ``stress_xy``; None unless
            the run was asked to record it.
        particle_volume: ``(N,)`` Ω_i of Eq. 3 used for ``atom_stress_xy``.
    """

    times: np.ndarray
    unwrapped: np.ndarray | None
    nonaffine: np.ndarray | None
    stress_xy: np.ndarray
    rate: np.ndarray
    final: Configuration
    meta: dict[str, Any] = field(default_factory=dict)
    temperature: np.ndarray | None = None
    potential_energy: np.ndarray | None = None
    strain: np.ndarray | None = None
    tilt: np.ndarray | None = None
    initial: Configuration | None = None
    atom_stress_xy: np.ndarray | None = None
    particle_volume: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def n_atoms(self) -> int:
        return self.final.n_atoms

    @property
    def dt_sample(self) -> float:
        """Time between frames."""
        return float(self.times[1] - self.times[0]) if self.n_frames > 1 else 0.0

    def viscosity(self, t_min: float = 0.0) -> float:
        """η = -⟨p_xy⟩ / γ̇ (Eq. 1) over the windows ending after ``t_min``.

        The first ``t_min`` time units (transient) are discarded; the rate must be
        constant and non-zero over the averaged windows.
        """
        sel = np.zeros(self.n_frames, dtype=bool)
        sel[1:] = self.times[1:] - self.dt_sample >= t_min - 1e-12
        if not sel.any():
            raise ValueError(f"no stress windows after t_min={t_min} (run length {self.times[-1]})")
        rates = np.unique(self.rate[sel])
        if rates.size != 1 or rates[0] == 0.0:
            raise ValueError(f"viscosity needs one non-zero shear rate in the window, got {rates}")
        return float(-self.stress_xy[sel].mean() / rates[0])


class NonAffineIntegrator:
    """Accumulate ``∫ γ̇ (y_u - ylo) dt`` frame by frame (vectorised over particles)."""

    def __init__(self, unwrapped0: np.ndarray, ylo: float = 0.0) -> None:
        self.r0 = np.array(unwrapped0, dtype=np.float64, copy=True)
        self.ylo = float(ylo)
        self._y_prev = self.r0[:, 1].copy()
        self.affine_x = np.zeros(self.r0.shape[0])

    def update(
        self,
        unwrapped: np.ndarray,
        rate: float,
        dt: float,
        y_integral: np.ndarray | None = None,
    ) -> np.ndarray:
        """Advance by one interval of length ``dt`` at constant ``rate``; return Δr̃.

        ``y_integral``, when given, is ``∫ (y_u - ylo) dt`` over the interval from
        the engine (per time step); otherwise the trapezoid rule on the two frames.
        """
        y = unwrapped[:, 1]
        if rate != 0.0:
            if y_integral is None:
                self.affine_x += rate * dt * (0.5 * (self._y_prev + y) - self.ylo)
            else:
                self.affine_x += rate * y_integral
        self._y_prev = y.copy()
        out = unwrapped - self.r0
        out[:, 0] -= self.affine_x
        return out
