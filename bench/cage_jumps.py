"""Throughput of the vectorised Candelier cage-jump detector (Zeng, Yu & Wang 2025, Eq. 11).

    python bench/cage_jumps.py [--n 10976] [--frames 1000] [--ref-n 16] [--prefix-ref-n 1000]

Synthetic caged trajectories with planted jumps (``taulc.dynamics.synthetic``,
3σ² = l_c²/4, jumps of 3 l_c) for N particles and F frames, stored float32.
Times, in the same run:

* ``first_jump_frames`` (vectorised over particles, left-chain recursion) on all N;
* the straightforward per-particle reference (Python loop over particles and
  over cut times, Eq. 11 evaluated literally, same left-chain recursion) on
  ``--ref-n`` particles, extrapolated to N;
* a per-particle loop that already uses the prefix-sum evaluation (O(F) per
  segment) on ``--prefix-ref-n`` particles, extrapolated — to show how much
  of the gain is algorithmic and how much is batching;
* the full segmentation (all jumps) vectorised vs its per-particle loop.

Prints particles×frames per CPU second (single-threaded; wall time is unreliable on a
shared machine), the ratios, agreement of the results on
the reference subsets, and the peak memory of the detector (tracemalloc;
input array excluded) and the process max RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from taulc.dynamics.cage_jumps import (
    first_jump_frames,
    first_jump_frames_prefix_reference,
    first_jump_frames_reference,
    segment_trajectories,
    segment_trajectories_reference,
)
from taulc.dynamics.synthetic import planted_trajectories

LC2 = 0.057


def make_data(n: int, f: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.empty((f, n, 3), dtype=np.float32)
    first = np.empty(n, dtype=np.int64)
    step = 2048
    for k, a in enumerate(range(0, n, step)):
        b = min(n, a + step)
        xa, fa = planted_trajectories(
            b - a, f, cage_sigma=np.sqrt(LC2 / 12), jump_length=3 * np.sqrt(LC2), frac_jumping=0.8, seed=seed + k
        )
        x[:, a:b] = xa
        first[a:b] = fa
    return x, first


def timed(fn, *args, **kw):
    """Run ``fn``; return (result, CPU seconds of this process).  CPU time, not wall time:
    the machine is shared, and both sides are single-threaded numpy."""
    t = time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10976)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--ref-n", type=int, default=16, help="particles for the literal reference")
    ap.add_argument("--prefix-ref-n", type=int, default=1000, help="particles for the prefix-sum loop")
    ap.add_argument("--memory-mb", type=float, default=256.0)
    args = ap.parse_args()
    n, f = args.n, args.frames
    x, planted = make_data(n, f)
    pf = n * f
    print(f"N = {n} particles, F = {f} frames, input {x.nbytes / 2**20:.0f} MiB float32, l_c² = {LC2}")

    tracemalloc.start()
    fr, t_vec = timed(first_jump_frames, x, LC2, memory_mb=args.memory_mb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ok = planted >= 0
    print(
        f"vectorised first jump      : {t_vec:8.2f} s  {pf / t_vec:12.3e} particle-frames/s  "
        f"peak {peak / 2**20:.0f} MiB (memory_mb={args.memory_mb:g})"
    )
    print(
        f"  planted first jumps within 1 frame: {np.mean(np.abs(fr[ok] - planted[ok]) <= 1):.4f}, "
        f"false jumps: {np.sum(fr[~ok] >= 0)}/{np.sum(~ok)}"
    )

    m = min(args.ref_n, n)
    fr_ref, t_ref = timed(first_jump_frames_reference, x[:, :m], LC2)
    t_ref_all = t_ref * n / m
    print(
        f"reference (literal Eq. 11) : {t_ref_all:8.1f} s  {pf / t_ref_all:12.3e} particle-frames/s  "
        f"(timed on {m}, extrapolated)  speed-up x{t_ref_all / t_vec:.0f}  "
        f"agree {np.array_equal(fr_ref, fr[:m])}"
    )

    m2 = min(args.prefix_ref_n, n)
    fr_p, t_p = timed(first_jump_frames_prefix_reference, x[:, :m2], LC2)
    t_p_all = t_p * n / m2
    print(
        f"per-particle prefix sums   : {t_p_all:8.1f} s  {pf / t_p_all:12.3e} particle-frames/s  "
        f"(timed on {m2}, extrapolated)  speed-up x{t_p_all / t_vec:.1f}  "
        f"agree {np.array_equal(fr_p, fr[:m2])}"
    )

    m3 = min(2000, n)
    cj, t_seg = timed(segment_trajectories, x[:, :m3], LC2, memory_mb=args.memory_mb)
    cr, t_segr = timed(segment_trajectories_reference, x[:, : min(500, m3)], LC2)
    t_segr_all = t_segr * m3 / min(500, m3)
    print(
        f"full segmentation (N={m3})  : vectorised {t_seg:.2f} s ({cj.particle.size} jumps), "
        f"per-particle loop {t_segr_all:.2f} s (extrapolated)  speed-up x{t_segr_all / t_seg:.1f}"
    )
    print(f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
