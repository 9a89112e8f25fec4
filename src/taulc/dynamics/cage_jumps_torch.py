"""First cage jumps (Candelier recursion, Eq. 11) in torch, on the device holding the trajectories.

Same algorithm and arithmetic as :func:`taulc.dynamics.cage_jumps.first_jump_frames`
(the left-chain recursion with prefix sums; see that module for the derivation),
vectorised over every (replica, particle) trajectory of a batch, so that
trajectories produced on a GPU (:mod:`taulc.md.openmm_engine`) are labelled
there without crossing to the host.  In float64 on the CPU it returns exactly
the NumPy frames (tested); on a GPU the prefix sums are parallel scans, whose
rounding may move a cut sitting on a tie or exactly at the threshold.

Memory: about 20 float64 values per (trajectory, frame) cell live at the peak;
trajectories are processed in chunks sized by ``memory_mb``.
"""

from __future__ import annotations

import torch

__all__ = ["first_jump_frames_torch", "first_jump_times_torch", "chunk_trajectories"]


def chunk_trajectories(n_frames: int, memory_mb: float = 256.0) -> int:
    """Trajectories per chunk so that ~20 float64 (trajectory, frame) arrays fit in ``memory_mb``."""
    return max(1, int(memory_mb * 2**20 // (20 * 8 * max(int(n_frames), 1))))


def _first_jump_chunk(x: torch.Tensor, thr2: float) -> torch.Tensor:
    """Left-chain recursion for ``x (n, F, 3)`` (origin at frame 0); first-jump frames, -1: none."""
    n, f, _ = x.shape
    dev = x.device
    first = torch.full((n,), -1, dtype=torch.int64, device=dev)
    if f < 2:
        return first
    pp = torch.zeros((n, f + 1, 3), dtype=torch.float64, device=dev)
    torch.cumsum(x, dim=1, out=pp[:, 1:])
    rr = torch.zeros((n, f + 1), dtype=torch.float64, device=dev)
    sq = x[..., 0] * x[..., 0] + x[..., 1] * x[..., 1] + x[..., 2] * x[..., 2]
    torch.cumsum(sq, dim=1, out=rr[:, 1:])
    px, py, pz = (pp[:, :, k].contiguous() for k in range(3))
    s11_all = px * px + py * py + pz * pz
    end = torch.full((n,), f, dtype=torch.int64, device=dev)
    active = torch.arange(n, device=dev)
    while active.numel():
        e = end[active]
        emax = int(e.max())
        a = torch.arange(1, emax, dtype=torch.float64, device=dev)  # n1 = c for c = 1..emax-1
        inv_a = 1.0 / a
        inv_a2 = inv_a * inv_a
        cx, cy, cz = px[active, 1:emax], py[active, 1:emax], pz[active, 1:emax]
        s11 = s11_all[active, 1:emax]
        q1 = rr[active, 1:emax]
        ex, ey, ez = px[active, e], py[active, e], pz[active, e]
        qe = rr[active, e]
        see = ex * ex + ey * ey + ez * ez
        g = cx * ex[:, None]
        g = g + cy * ey[:, None]
        g = g + cz * ez[:, None]
        b = e[:, None].to(torch.float64) - a  # n2
        valid = b >= 1.0
        inv_b = 1.0 / torch.where(valid, b, torch.ones_like(b))
        s12 = g - s11
        s22 = see[:, None] - 2.0 * g + s11
        cross = 2.0 * s12 * inv_a * inv_b
        d2s1 = q1 * inv_a - cross + s22 * inv_b * inv_b
        d1s2 = (qe[:, None] - q1) * inv_b - cross + s11 * inv_a2
        d2s1 = d2s1 * d1s2
        ef = e.to(torch.float64)
        d2s1 = d2s1 * (a * b * (1.0 / (ef * ef))[:, None])
        d2s1 = torch.where(valid, d2s1, torch.full_like(d2s1, -torch.inf))
        pmax2, k = torch.max(d2s1, dim=1)
        acc = pmax2 >= thr2
        cut = k + 1
        first[active[acc]] = cut[acc]
        end[active[acc]] = cut[acc]
        active = active[acc & (cut >= 2)]
    return first


def first_jump_frames_torch(
    nonaffine: torch.Tensor, lc2: float, *, memory_mb: float = 256.0, chunk_size: int | None = None
) -> torch.Tensor:
    """Frame of each trajectory's first cage jump (``-1``: censored).

    Args:
        nonaffine: ``(F, N, 3)`` or ``(B, F, N, 3)`` displacements (any float dtype,
            computed in float64), frame 0 = time origin.
        lc2: threshold ``l_c²`` (σ²).
        memory_mb: working-set bound used to chunk trajectories.
        chunk_size: trajectories per chunk (overrides ``memory_mb``).

    Returns:
        ``(N,)`` or ``(B, N)`` int64 on the input's device.
    """
    if not (lc2 > 0 and lc2 < float("inf")):
        raise ValueError(f"lc2 must be a positive finite number, got {lc2}")
    squeeze = nonaffine.dim() == 3
    x = nonaffine[None] if squeeze else nonaffine
    if x.dim() != 4 or x.shape[-1] != 3:
        raise ValueError(f"nonaffine must have shape (F, N, 3) or (B, F, N, 3), got {tuple(nonaffine.shape)}")
    bsz, f, n, _ = x.shape
    out = torch.empty((bsz, n), dtype=torch.int64, device=x.device)
    chunk = int(chunk_size or chunk_trajectories(f, memory_mb))
    thr2 = float(lc2) ** 2
    flat = out.view(-1)
    total = bsz * n
    for a in range(0, total, chunk):
        idx = torch.arange(a, min(total, a + chunk), device=x.device)
        rep, part = idx // n, idx % n
        traj = x[rep, :, part, :].to(torch.float64)  # (m, F, 3)
        traj = traj - traj[:, :1, :]
        flat[a : a + idx.numel()] = _first_jump_chunk(traj, thr2)
    return out[0] if squeeze else out


def first_jump_times_torch(nonaffine: torch.Tensor, times: torch.Tensor, lc2: float, **kwargs) -> torch.Tensor:
    """First cage-jump times ``times[c] - times[0]`` (NaN = censored), shape as the frames' result."""
    fr = first_jump_frames_torch(nonaffine, lc2, **kwargs)
    t = torch.as_tensor(times, dtype=torch.float64, device=fr.device)
    out = torch.full(fr.shape, float("nan"), dtype=torch.float64, device=fr.device)
    ok = fr >= 0
    out[ok] = t[fr[ok]] - t[0]
    return out
