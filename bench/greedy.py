"""Benchmark: greedy forward selection of Appendix C (Table I, Fig. 18).

Fast path (taulc.analysis.importance.greedy_forward): one streamed Gram matrix, then Gram-Schmidt
updates, O(N F^2 + k^2 F). Baseline, measured in the same run: the literal procedure, one OLS refit
(numpy lstsq with intercept) per remaining column per step (greedy_forward_bruteforce), on a subset.

    python bench/greedy.py                      # N = 1e5, F = 576, top 30; baseline on 4000 x 576, 5 steps
    python bench/greedy.py --n 20000 --sub 2000 --sub-steps 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from taulc.analysis.importance import greedy_forward, greedy_forward_bruteforce


def planted(n: int, f: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correlated float32 features (like g_l^m at neighbouring r) and a target on 8 planted columns."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, f), dtype=np.float32)
    x[:, 1:] += 0.5 * x[:, :-1]  # neighbouring columns correlated
    cols = rng.choice(f, 8, replace=False)
    y = x[:, cols].astype(np.float64) @ rng.uniform(0.3, 1.0, 8) + rng.standard_normal(n)
    return x, y, cols


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--f", type=int, default=576)
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--sub", type=int, default=4000, help="rows of the subset used for the naive baseline")
    ap.add_argument("--sub-steps", type=int, default=5, help="greedy steps of the naive baseline")
    a = ap.parse_args()

    x, y, cols = planted(a.n, a.f)
    t0 = time.perf_counter()
    res = greedy_forward(x, y, a.k)
    t_fast = time.perf_counter() - t0
    found = len(set(res.order[:8]) & set(cols))
    print(
        f"fast greedy: N={a.n} F={a.f} top {a.k}: {t_fast:.2f} s wall  "
        f"(planted columns in the top 8: {found}/8, cumulative Pearson {res.pearson[-1]:.3f})"
    )

    xs, ys = x[: a.sub], y[: a.sub]
    t0 = time.perf_counter()
    fast_sub = greedy_forward(xs, ys, a.sub_steps)
    t_fs = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = greedy_forward_bruteforce(xs, ys, a.sub_steps)
    t_naive = time.perf_counter() - t0
    same = np.array_equal(fast_sub.order, naive.order) and np.allclose(fast_sub.pearson, naive.pearson, atol=1e-9)
    print(
        f"subset N={a.sub} F={a.f}, {a.sub_steps} steps: naive refits {t_naive:.2f} s, fast {t_fs:.3f} s "
        f"-> ratio {t_naive / t_fs:.0f}x   (same order and Pearson: {same})"
    )
    # naive cost of the full problem: per-refit cost ~ N (k+1)^2, N_X - i refits at step i
    per = t_naive / sum((a.f - i) * (i + 2) ** 2 for i in range(a.sub_steps))
    est = per * (a.n / a.sub) * sum((a.f - i) * (i + 2) ** 2 for i in range(a.k))
    print(f"naive refits extrapolated to N={a.n}, top {a.k}: ~{est:.0f} s  -> ratio ~{est / t_fast:.0f}x")


if __name__ == "__main__":
    main()
