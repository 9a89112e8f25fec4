"""Synthetic caged trajectories with planted cage jumps (tests and benchmarks).

Each particle rattles in its cage as a 3D Ornstein-Uhlenbeck process of
stationary variance ``cage_sigma²`` per coordinate and correlation time
``corr_frames`` frames (so the "plateau" MSD is ``6 cage_sigma²``); at each
planted jump time the cage centre moves by ``jump_length`` in a random
direction.  The jump is instantaneous between frames ``k-1`` and ``k``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["caged_noise", "plant_jumps", "planted_trajectories"]


def caged_noise(n_frames: int, n: int, cage_sigma: float, *, corr_frames: float = 3.0, rng: np.random.Generator) -> np.ndarray:
    """``(F, N, 3)`` stationary OU noise, std ``cage_sigma`` per coordinate."""
    a = float(np.exp(-1.0 / max(corr_frames, 1e-9)))
    x = np.empty((n_frames, n, 3))
    x[0] = rng.normal(0.0, cage_sigma, (n, 3))
    kick = cage_sigma * np.sqrt(1.0 - a * a)
    for f in range(1, n_frames):  # loop over frames, vectorised over particles
        x[f] = a * x[f - 1] + rng.normal(0.0, kick, (n, 3))
    return x


def plant_jumps(
    x: np.ndarray, jump_frames: list[np.ndarray] | np.ndarray, jump_length: float, rng: np.random.Generator
) -> np.ndarray:
    """Add cage jumps in place: ``jump_frames[j]`` is ``(N,)`` frame of the j-th jump (-1 = none).

    Frames ``>= k`` are displaced by ``jump_length`` in a random direction; each
    later jump of a particle is flipped if needed so that it does not point
    back (``d_j · d_{j-1} >= 0``): short out-and-back excursions are a known
    blind spot of the binary split and are tested separately.
    """
    f, n, _ = x.shape
    frames = np.atleast_2d(np.asarray(jump_frames))
    t = np.arange(f)[:, None]
    prev = None
    for k in frames:
        d = rng.normal(size=(n, 3))
        d *= jump_length / np.linalg.norm(d, axis=1, keepdims=True)
        if prev is not None:
            d *= np.where(np.einsum("nk,nk->n", d, prev) < 0, -1.0, 1.0)[:, None]
        prev = d
        on = (k >= 0)[None, :] & (t >= k[None, :])
        x += on[:, :, None] * d[None]
    return x


def planted_trajectories(
    n: int,
    n_frames: int,
    *,
    cage_sigma: float,
    jump_length: float,
    frac_jumping: float = 0.8,
    edge: float = 0.1,
    min_gap: float = 0.1,
    max_jumps: int = 3,
    corr_frames: float = 3.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Trajectories ``(F, N, 3)`` and planted first-jump frames ``(N,)`` (-1: never jumps).

    A fraction ``frac_jumping`` of particles jumps 1..``max_jumps`` times; jump
    frames lie in ``[edge F, (1-edge) F]`` and are at least ``min_gap F`` apart.
    """
    rng = np.random.default_rng(seed)
    x = caged_noise(n_frames, n, cage_sigma, corr_frames=corr_frames, rng=rng)
    jumping = rng.random(n) < frac_jumping
    lo, hi = int(edge * n_frames), int((1 - edge) * n_frames)
    gap = max(1, int(min_gap * n_frames))
    nj = rng.integers(1, max_jumps + 1, n)
    frames = np.full((max_jumps, n), -1, dtype=np.int64)
    frames[0] = rng.integers(lo, hi, n)
    for j in range(1, max_jumps):
        nxt = frames[j - 1] + gap + rng.integers(0, max(1, hi - lo), n)
        ok = (nj > j) & (frames[j - 1] >= 0) & (nxt < hi)
        frames[j] = np.where(ok, nxt, -1)
    frames[:, ~jumping] = -1
    plant_jumps(x, frames, jump_length, rng)
    return x, frames[0]
