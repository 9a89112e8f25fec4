"""All cage-jump events of a (sheared) trajectory, streamed in bounded memory.

Every cut of the full Candelier segmentation (Zeng, Yu & Wang 2025, Methods, Eq. 11;
:func:`taulc.dynamics.cage_jumps.segment_trajectories`) is one event with

* ``frame`` / ``time``: the first frame in the new cage;
* ``particle``;
* ``position``: the particle's position at that frame, wrapped into the cell of that
  frame (tilt from the trajectory; Lees-Edwards images are lattice translations of
  that cell);
* ``jump``: the non-affine jump vector, mean non-affine position of the new cage
  minus that of the old one (cages = the segments between consecutive cuts), the
  r̃_cj of the paper's P_ext (Fig. 2c).

Memory: particles are processed ``chunk_size`` at a time (only that slice of the
``(F, N, 3)`` arrays is read, so ``np.memmap``/HDF5-backed arrays stream from disk);
with ``window`` set, the time axis is cut into windows of that many frames that
overlap by ``overlap`` frames, each is segmented on its own and only the events in
its core (half the overlap away from interior window edges) are kept, so the working
set is ``chunk_size x window`` whatever the run length.  Windowed segmentation differs
from the full one only for cages longer than the window (a cut needs both sides).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from taulc.dynamics.cage_jumps import segment_trajectories

log = logging.getLogger(__name__)

__all__ = ["CageEvents", "cage_events", "iter_cage_events", "wrap_into_cell"]


@dataclass
class CageEvents:
    """Cage-jump events (one row each), sorted by (particle, frame) within a chunk."""

    particle: np.ndarray  # (J,) int64
    frame: np.ndarray  # (J,) int64
    time: np.ndarray  # (J,) float64
    position: np.ndarray  # (J, 3) wrapped position at the event frame
    jump: np.ndarray  # (J, 3) non-affine jump vector (new cage mean - old cage mean)
    p: np.ndarray  # (J,) Candelier p(t_c) at the accepted cut

    def __len__(self) -> int:
        return int(self.particle.shape[0])

    @classmethod
    def concat(cls, parts: list[CageEvents]) -> CageEvents:
        if not parts:
            z = np.zeros(0, dtype=np.int64)
            return cls(z, z.copy(), np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0))
        return cls(
            *(np.concatenate([getattr(q, k) for q in parts]) for k in ("particle", "frame", "time", "position", "jump", "p"))
        )

    def select(self, mask: np.ndarray) -> CageEvents:
        return CageEvents(
            self.particle[mask], self.frame[mask], self.time[mask], self.position[mask], self.jump[mask], self.p[mask]
        )

    def in_window(self, t0: float, t1: float) -> CageEvents:
        """Events with ``t0 <= time < t1``."""
        return self.select((self.time >= t0) & (self.time < t1))

    def extensional_fraction(self) -> float:
        """P_ext: fraction of jumps whose shear-plane projection lies in quadrant 1 or 3 (Fig. 2c)."""
        if len(self) == 0:
            return float("nan")
        return float(np.mean(self.jump[:, 0] * self.jump[:, 1] > 0))

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("particle", "frame", "time", "position", "jump", "p")}


def wrap_into_cell(positions: np.ndarray, cell: np.ndarray, tilt: np.ndarray | float | None = None) -> np.ndarray:
    """Wrap positions (M, 3) into an upper-triangular ``cell`` (origin 0), fractions in [0, 1).

    ``tilt`` (scalar or (M,)) replaces the cell's xy tilt per position (frames of a sheared run).
    """
    r = np.asarray(positions, dtype=np.float64)
    c = np.asarray(cell, dtype=np.float64)
    xy = c[1, 0] if tilt is None else np.asarray(tilt, dtype=np.float64)
    (lx, _, _), (_, ly, _), (xz, yz, lz) = c
    sz = r[..., 2] / lz
    sy = (r[..., 1] - yz * sz) / ly
    sx = (r[..., 0] - xy * sy - xz * sz) / lx
    s = np.stack([sx, sy, sz], axis=-1)
    s -= np.floor(s)
    s[s >= 1.0] = 0.0
    out = np.empty_like(s)
    out[..., 2] = s[..., 2] * lz
    out[..., 1] = s[..., 1] * ly + s[..., 2] * yz
    out[..., 0] = s[..., 0] * lx + s[..., 1] * xy + s[..., 2] * xz
    return out


def _jump_vectors(x: np.ndarray, pid: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """New-cage mean minus old-cage mean for events (pid, frame) sorted by (pid, frame); x (n, F, 3)."""
    n, f, _ = x.shape
    pre = np.zeros((n, f + 1, 3))
    np.cumsum(x, axis=1, out=pre[:, 1:])
    same_prev = np.r_[False, pid[1:] == pid[:-1]]
    same_next = np.r_[pid[:-1] == pid[1:], False]
    start = np.where(same_prev, np.r_[0, frame[:-1]], 0)
    end = np.where(same_next, np.r_[frame[1:], 0], f)
    old = (pre[pid, frame] - pre[pid, start]) / (frame - start)[:, None]
    new = (pre[pid, end] - pre[pid, frame]) / (end - frame)[:, None]
    return new - old


def _windows(f: int, window: int | None, overlap: int) -> list[tuple[int, int, int, int]]:
    """(start, end, keep_from, keep_to) frame ranges; events with keep_from <= frame < keep_to kept."""
    if window is None or window >= f:
        return [(0, f, 0, f)]
    if overlap < 2 or overlap >= window:
        raise ValueError(f"window overlap must be in [2, window), got {overlap} (window {window})")
    out = []
    step = window - overlap
    s = 0
    while True:
        e = min(f, s + window)
        kf = 0 if s == 0 else s + overlap // 2
        kt = f if e == f else e - overlap // 2
        out.append((s, e, kf, kt))
        if e == f:
            return out
        s += step


def iter_cage_events(
    nonaffine: np.ndarray,
    unwrapped: np.ndarray,
    times: np.ndarray,
    cell: np.ndarray,
    lc2: float,
    *,
    tilt: np.ndarray | None = None,
    chunk_size: int = 64,
    window: int | None = None,
    overlap: int = 100,
    progress: bool = False,
) -> Iterator[CageEvents]:
    """Yield the cage-jump events of ``chunk_size`` particles at a time (see module docstring).

    Args:
        nonaffine: ``(F, N, 3)`` Yamamoto-Onuki non-affine displacements.
        unwrapped: ``(F, N, 3)`` unwrapped positions (for the event positions).
        times: ``(F,)`` frame times.
        cell: ``(3, 3)`` cell; its xy tilt is replaced by ``tilt[f]`` per frame when given.
        lc2: Candelier threshold l_c².
        window, overlap: optional time windows (frames) for very long runs.
    """
    times = np.asarray(times, dtype=np.float64)
    f, n = nonaffine.shape[0], nonaffine.shape[1]
    if unwrapped.shape != nonaffine.shape or times.shape != (f,):
        raise ValueError(
            f"nonaffine {nonaffine.shape}, unwrapped {unwrapped.shape} and times {times.shape} "
            "must agree as (F, N, 3), (F, N, 3), (F,)"
        )
    tilts = None if tilt is None else np.asarray(tilt, dtype=np.float64)
    if tilts is not None and tilts.shape != (f,):
        raise ValueError(f"tilt must have shape ({f},), got {tilts.shape}")
    wins = _windows(f, window, overlap)
    chunks = range(0, n, chunk_size)
    if progress:
        chunks = tqdm(chunks, desc="cage events", unit="chunk")
    base = np.asarray(cell, dtype=np.float64)
    for a in chunks:
        b = min(n, a + chunk_size)
        parts = []
        for s, e, kf, kt in wins:
            x = np.asarray(nonaffine[s:e, a:b], dtype=np.float64)
            jumps = segment_trajectories(x, lc2)
            fr = jumps.frame + s
            keep = (fr >= kf) & (fr < kt)
            pid, fr, pv = jumps.particle[keep], fr[keep], jumps.p[keep]
            if pid.size == 0:
                continue
            xt = x.transpose(1, 0, 2)
            jv = _jump_vectors(xt, jumps.particle, jumps.frame)[keep]
            u = np.asarray(unwrapped[s:e, a:b], dtype=np.float64)[fr - s, pid]
            pos = wrap_into_cell(u, base, None if tilts is None else tilts[fr])
            parts.append(CageEvents(pid + a, fr, times[fr], pos, jv, pv))
        ev = CageEvents.concat(parts)
        order = np.lexsort((ev.frame, ev.particle))
        yield ev.select(order)


def cage_events(*args, **kwargs) -> CageEvents:
    """All events of :func:`iter_cage_events` in one :class:`CageEvents` (sorted by particle, frame)."""
    return CageEvents.concat(list(iter_cage_events(*args, **kwargs)))
