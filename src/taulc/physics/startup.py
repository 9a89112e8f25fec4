"""Start-up shear MD from equilibrium: the data the rheology models are checked against.

For one equilibrium configuration and one rate γ̇ (Yu, Zeng & Wang 2025, Sec. III.C,
Fig. 15 and App. B) every replica (fresh Maxwell-Boltzmann velocities, shear switched
on at t = 0) records

* the system stress σ(t) = −p_xy(t) (Eq. 1) and the per-particle shear stress σ_i,xy(t)
  (Zeng, Yu & Wang 2025 Eq. 2-3, :mod:`taulc.md.atomic_stress`), so that the
  start-up curves of any particle group (initially slow / fast) follow from Eq. 4;
* the neighbour-keeping ratio C_i(t) (App. B) with neighbours inside the first
  minimum of g(r);
* every particle's first cage-jump time from the start (Candelier et al. on the
  Yamamoto-Onuki non-affine trajectory), giving the jumped fraction φ(t).

Replica averages are kept per particle (σ_i and C_i are ICE means), so a later
fast/slow classification of the configuration's particles needs no rerun.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from taulc.dynamics.cage_jumps import first_jump_times
from taulc.md.configuration import Configuration
from taulc.md.engine import MDEngine, Segment, replica_seeds
from taulc.physics.measured import neighbor_keeping

log = logging.getLogger(__name__)

__all__ = ["StartupRun", "run_startup", "sample_every_for", "coarsen_windows"]


@dataclass
class StartupRun:
    """Start-up of one configuration at one rate, averaged over its replicas.

    Attributes:
        rate: γ̇.
        times: ``(F,)`` time since shear start (frame f > 0 = window ending at t_f).
        stress: ``(R, F)`` system stress σ = −p_xy of every replica.
        atom_stress: ``(F, N)`` replica-mean σ_i,xy (float32).
        omega: ``(N,)`` Ω_i (Eq. 3 of Zeng et al.).
        keep_frames: ``(K,)`` frame indices (of ``times``) at which C_i was evaluated.
        neighbor_keeping: ``(K, N)`` replica-mean C_i(t) (float32).
        first_jump: ``(R, N)`` first cage-jump time from the start (NaN = none before the end).
        r_cut: neighbour distance used for C_i.
        meta: seeds, sample interval, engine.
    """

    rate: float
    times: np.ndarray
    stress: np.ndarray
    atom_stress: np.ndarray
    omega: np.ndarray
    keep_frames: np.ndarray
    neighbor_keeping: np.ndarray
    first_jump: np.ndarray
    r_cut: float
    meta: dict[str, Any] = field(default_factory=dict)

    def to_arrays(self, max_frames: int | None = None) -> dict[str, np.ndarray]:
        """Arrays for storage; ``max_frames`` block-averages the stress windows (exact means)."""
        times, stress, atom = self.times, self.stress, self.atom_stress
        if max_frames is not None:
            times, stress = coarsen_windows(self.times, self.stress, max_frames)
            _, atom = coarsen_windows(self.times, self.atom_stress.T, max_frames)
            atom = atom.T
        return {
            "rate": np.float64(self.rate),
            "times": times,
            "stress": stress,
            "atom_stress": atom.astype(np.float32),
            "omega": self.omega,
            "frame_times": self.times,
            "keep_frames": self.keep_frames,
            "neighbor_keeping": self.neighbor_keeping.astype(np.float32),
            "first_jump": self.first_jump.astype(np.float32),
            "r_cut": np.float64(self.r_cut),
        }


def coarsen_windows(times: np.ndarray, values: np.ndarray, max_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge consecutive stress windows so at most ``max_frames`` frames remain.

    Frame 0 (instantaneous) is kept; frames 1.. are window means of equal length, so the
    mean of a block of ``b`` of them is the exact mean over the merged window, stamped at
    its end.  ``values`` has frames on its last axis.
    """
    f = times.shape[0]
    b = max(1, int(np.ceil((f - 1) / max(1, max_frames - 1))))
    if b == 1:
        return times, values
    m = (f - 1) // b
    body = values[..., 1 : 1 + m * b].reshape(*values.shape[:-1], m, b).mean(axis=-1)
    return (np.concatenate([times[:1], times[b : 1 + m * b : b]]), np.concatenate([values[..., :1], body], axis=-1))


def sample_every_for(duration: float, dt: float, n_frames: int = 400, bounds: tuple[float, float] = (0.05, 0.5)) -> int:
    """MD steps between frames: about ``n_frames`` frames, interval clipped to ``bounds``."""
    interval = float(np.clip(duration / n_frames, *bounds))
    return max(1, int(round(interval / dt)))


def run_startup(
    engine: MDEngine,
    conf: Configuration,
    rate: float,
    duration: float,
    *,
    n_replicas: int,
    seed: int,
    lc2: float,
    r_cut: float,
    sample_every: int | None = None,
    n_keep_frames: int = 80,
    progress: bool = False,
) -> StartupRun:
    """Start-up shear at ``rate`` for ``duration`` from ``conf`` (shear off before t = 0).

    Args:
        engine: an engine that supports per-particle stress.
        conf: equilibrium configuration (velocities are redrawn per replica).
        lc2: squared cage size l_c² for the cage-jump detection.
        r_cut: neighbour distance for C_i(t) (first minimum of g(r)).
        n_keep_frames: frames (log-spaced) at which C_i(t) is evaluated.
    """
    if rate <= 0:
        raise ValueError(f"field 'rate' must be > 0 for a start-up run, got {rate}")
    k = sample_every or sample_every_for(duration, engine.system.dt)
    seeds = replica_seeds(seed, n_replicas)
    acc_s = acc_c = None
    stresses, jumps = [], []
    times = omega = keep = None
    bar = tqdm(seeds, desc=f"start-up γ̇={rate:g}", unit="replica", disable=not progress)
    for s in bar:
        base = conf.copy()
        base.meta["time"] = 0.0
        engine.load(base)
        engine.thermalize(int(s))
        engine.protocol = f"startup(rate={rate:g})"
        traj = engine.run([Segment(duration, rate)], sample_every=k, record_atom_stress=True)
        assert traj is not None and traj.atom_stress_xy is not None and traj.unwrapped is not None
        if times is None:
            times, omega = traj.times, traj.particle_volume
            n_f = traj.n_frames
            keep = np.unique(np.concatenate([[0], np.geomspace(1, n_f - 1, n_keep_frames).astype(int)]))
        cells = np.repeat(traj.initial.cell[None], traj.n_frames, axis=0)
        cells[:, 1, 0] = traj.tilt
        c_i = neighbor_keeping(traj.unwrapped, cells, r_cut, frames=keep)
        acc_s = traj.atom_stress_xy if acc_s is None else acc_s + traj.atom_stress_xy
        acc_c = c_i if acc_c is None else acc_c + c_i
        stresses.append(-traj.stress_xy)
        jumps.append(first_jump_times(traj.nonaffine, traj.times, lc2))
    n = float(n_replicas)
    return StartupRun(
        rate=float(rate),
        times=np.asarray(times),
        stress=np.asarray(stresses),
        atom_stress=acc_s / n,
        omega=np.asarray(omega),
        keep_frames=np.asarray(keep),
        neighbor_keeping=acc_c / n,
        first_jump=np.asarray(jumps),
        r_cut=float(r_cut),
        meta={
            "seeds": [int(x) for x in seeds],
            "seed": int(seed),
            "sample_every": int(k),
            "engine": engine.backend,
            "engine_version": engine.version,
        },
    )
