"""Benchmark: the 576-element descriptor X of Eq. 13 for sample A's size (N = 10976, rho = 1.38).

Configuration: no MD configuration is needed - an FCC lattice (4 x 14^3 sites)
mapped affinely into a tilted box (xy = tilt * Ly) plus Gaussian noise
(sigma = 0.08 per coordinate), species 80:20 at random. It is liquid-like in
the sense that matters here (density, neighbour counts, no overlaps), not a
real liquid.

Baseline (named, measured in the same run): a brute-force Eq. 9 + Eqs. 11-12
per particle - loop over centres, explicit periodic images of all N
particles, scipy spherical harmonics - run on a subset and extrapolated per
particle; its values are checked against the fast ones on that subset.

    python bench/descriptors.py                  # default: N = 10976, 3 repeats
    python bench/descriptors.py --full --caging  # also all l <= 6 (gen 0) and the caging family
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import os
import platform
import resource
import time

import numpy as np
import scipy.special as ss

from taulc.structure import featurize

log = logging.getLogger("bench.descriptors")


def make_config(n_cells: int, rho: float, tilt: float, noise: float, seed: int):
    rng = np.random.default_rng(seed)
    n = 4 * n_cells**3
    length = (n / rho) ** (1.0 / 3.0)
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    frac = ((grid + base) / n_cells).reshape(-1, 3)
    cell = np.array([[length, 0.0, 0.0], [tilt * length, length, 0.0], [0.0, 0.0, length]])
    pos = frac @ cell + rng.normal(0.0, noise, (n, 3))
    species = (rng.random(n) < 0.2).astype(np.int64)
    return pos, species, cell


def _images(cell: np.ndarray) -> np.ndarray:
    return np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.float64) @ cell


def _real_y(v: np.ndarray, l: int, m: int) -> np.ndarray:
    r = np.linalg.norm(v, axis=1)
    yc = ss.sph_harm_y(l, abs(m), np.arccos(np.clip(v[:, 2] / r, -1, 1)), np.arctan2(v[:, 1], v[:, 0]))
    if m == 0:
        return yc.real
    return math.sqrt(2) * (-1) ** m * (yc.real if m > 0 else yc.imag)


def brute_x0(pos, species, cell, centres, r_grid, delta=0.1, kd=0.5):
    """Eq. 9 for the given centres, (0,0) and (2,-2): explicit 27 images, no neighbour list."""
    img = _images(cell)
    out = np.zeros((len(centres), 2, 2, len(r_grid)))
    for k, i in enumerate(centres):
        v = (pos[None, :, :] - pos[i] + img[:, None, :]).reshape(-1, 3)
        jj = np.tile(np.arange(len(pos)), len(img))
        d = np.linalg.norm(v, axis=1)
        sel = (d > 0) & (d < r_grid[-1] + kd)
        v, jj, d = v[sel], jj[sel], d[sel]
        x = r_grid[None, :] - d[:, None]
        gauss = np.where(np.abs(x) < kd, np.exp(-(x**2) / (2 * delta**2)), 0.0)
        for c, (l, m) in enumerate([(0, 0), (2, -2)]):
            y = _real_y(v, l, m)
            for s in (0, 1):
                out[k, c, s] = (gauss[species[jj] == s] * y[species[jj] == s, None]).sum(0) / r_grid**2
    return out.reshape(len(centres), -1)


def brute_cg_row(pos, cell, i, x, rc=4.0):
    """One row of Eq. 11: explicit images, weighted average of X over r_ij < rc (self included)."""
    img = _images(cell)
    v = (pos[None, :, :] - pos[i] + img[:, None, :]).reshape(-1, 3)
    jj = np.tile(np.arange(len(pos)), len(img))
    d = np.linalg.norm(v, axis=1)
    sel = d < rc
    w = np.exp(-d[sel] / rc)
    return (w[:, None] * x[jj[sel]]).sum(0) / w.sum()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-cells", type=int, default=14, help="FCC cells per edge (N = 4 n^3; 14 -> 10976)")
    ap.add_argument("--rho", type=float, default=1.38)
    ap.add_argument("--tilt", type=float, default=0.2, help="xy / Ly")
    ap.add_argument("--noise", type=float, default=0.08)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--brute", type=int, default=16, help="particles in the brute-force baseline subset")
    ap.add_argument("--full", action="store_true", help="also time all l <= 6 (4704 columns, generation 0)")
    ap.add_argument("--caging", action="store_true", help="also time the caging family")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    pos, species, cell = make_config(args.n_cells, args.rho, args.tilt, args.noise, 0)
    n = len(pos)
    load = os.getloadavg()
    log.info(
        "machine: %s, %d CPUs visible, load average %.2f / %.2f / %.2f (shared machine: wall times inflate under load)",
        platform.processor() or platform.machine(),
        os.cpu_count(),
        *load,
    )
    log.info(
        "config: N=%d, rho=%.3f, tilt xy/Ly=%.2f, jittered FCC (noise %.2f), 80:20 species", n, args.rho, args.tilt, args.noise
    )
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6

    walls, cpus = [], []
    x = names = None
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        x, names = featurize(pos, species, cell, {})
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    assert x is not None and names is not None
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    log.info(
        "featurize (gl, 576 columns): wall best %.2f s / median %.2f s, CPU (all threads) best %.2f s; "
        "peak RSS %.2f GB (%.2f GB before)",
        min(walls),
        float(np.median(walls)),
        min(cpus),
        rss1,
        rss0,
    )

    # brute-force baseline on a subset, extrapolated per particle
    rng = np.random.default_rng(1)
    sub = rng.choice(n, size=min(args.brute, n), replace=False)
    r_grid = 0.3 + 0.1 * np.arange(48)
    t0 = time.perf_counter()
    xb = brute_x0(pos, species, cell, sub, r_grid)
    t_x0 = (time.perf_counter() - t0) / len(sub)
    t0 = time.perf_counter()
    x0 = x[:, :192].astype(np.float64)
    x1 = x[:, 192:384].astype(np.float64)
    cgb = np.stack([brute_cg_row(pos, cell, i, x0) for i in sub])
    t_cg = (time.perf_counter() - t0) / len(sub)
    err0 = np.max(np.abs(xb - x0[sub]) / (np.abs(xb) + 1e-6 * np.abs(xb).max()))
    err1 = np.max(np.abs(cgb - x1[sub]) / (np.abs(cgb) + 1e-6 * np.abs(cgb).max()))
    brute_total = n * (t_x0 + 2 * t_cg)
    log.info(
        "baseline brute force (explicit images, per particle): %.1f ms/particle Eq. 9 + 2 x %.1f ms Eq. 11 "
        "-> %.0f s extrapolated for N=%d",
        1e3 * t_x0,
        1e3 * t_cg,
        brute_total,
        n,
    )
    log.info("ratio brute/featurize (wall, best): %.0fx", brute_total / min(walls))
    log.info("check on the subset: max rel. diff X0 %.1e, X1 %.1e (float64 output)", err0, err1)

    if args.full:
        t0, c0 = time.perf_counter(), time.process_time()
        xf, _ = featurize(pos, species, cell, {"families": {"gl": {"lm": "all", "lmax": 6, "generations": 0}}})
        log.info(
            "featurize all l<=6 (%d columns, gen 0): wall %.2f s, CPU %.2f s, peak RSS %.2f GB",
            xf.shape[1],
            time.perf_counter() - t0,
            time.process_time() - c0,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        )
    if args.caging:
        t0, c0 = time.perf_counter(), time.process_time()
        xc, _ = featurize(pos, species, cell, {"families": {"caging": {"temperature": 1.0}}})
        log.info(
            "featurize caging (3 columns): wall %.2f s, CPU %.2f s; mean betaPhi big/small centres %.2f / %.2f",
            time.perf_counter() - t0,
            time.process_time() - c0,
            xc[species == 0, 2].mean(),
            xc[species == 1, 2].mean(),
        )


if __name__ == "__main__":
    main()
