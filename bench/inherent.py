"""Benchmark: inherent state + Hessian + dipole stiffness κ_ij of every interacting pair.

Part 1 (a demo configuration, N = 1500): LAMMPS CG minimisation, analytic
sparse Hessian, κ_ij for all pairs (Kapteijns et al. 2021, Eqs. A2-A4) by
:func:`taulc.physics.elasticity.dipole_stiffness` (Green's-function blocks of
M⁺ and M⁺² from one Cholesky factorisation); wall time and peak RSS.

Part 2 (a small KA inherent state made here, N = 500): the same κ, by both
paths (dense M⁺; bounded-memory batched solves), against the named baseline, measured in the same run: dense pseudo-inverse of the Hessian
(numpy ``eigh``) and one solve z = M⁺ d̂ per pair (Eq. A3) for all pairs,
chunked. Prints both times, their ratio and the largest relative difference.

    python bench/inherent.py                       # datasets/demo, first shard
    python bench/inherent.py --shard r1.000e-02_c000 --small 500
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from taulc.data.manifest import read_manifest
from taulc.data.storage import load_npz
from taulc.md import Configuration, LammpsEngine, Segment, SystemSpec
from taulc.physics.elasticity import HessianSolver, dipole_stiffness, shear_modulus
from taulc.physics.hessian import PairTable, hessian, interacting_pairs

log = logging.getLogger("bench.inherent")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dense_baseline(conf: Configuration, table: PairTable, chunk: int = 2000) -> np.ndarray:
    """κ_ij by a dense pseudo-inverse and one explicit solve per pair (Eqs. A2-A4)."""
    m = hessian(conf.positions, conf.species, conf.cell, table).toarray()
    w, v = np.linalg.eigh(m)
    pinv = (v[:, 3:] / w[3:]) @ v[:, 3:].T
    p = interacting_pairs(conf.positions, conf.species, conf.cell, table)
    nvec = p.vectors / p.distances[:, None]
    out = np.empty(len(p))
    for a in range(0, len(p), chunk):
        sl = slice(a, min(len(p), a + chunk))
        k = np.arange(sl.stop - sl.start)
        d = np.zeros((m.shape[0], len(k)))
        for b in range(3):
            d[3 * p.j[sl] + b, k] += nvec[sl, b] / np.sqrt(2)
            d[3 * p.i[sl] + b, k] -= nvec[sl, b] / np.sqrt(2)
        z = pinv @ d
        out[sl] = np.einsum("ip,ip->p", d, z) / np.einsum("ip,ip->p", z, z)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("datasets/demo"))
    ap.add_argument("--shard", default=None)
    ap.add_argument("--small", type=int, default=500, help="N of the baseline comparison")
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load {os.getloadavg()[0]:.1f}"
    )

    man = read_manifest(args.root)
    ids = [s["id"] for s in man["shards"]]
    entry = man["shards"][ids.index(args.shard) if args.shard else 0]
    z = load_npz(args.root / entry["file"], ("positions", "species", "cell"))
    system = SystemSpec.from_config(man["config"]["system"])
    table = PairTable.from_system(system)
    conf = Configuration(z["positions"], z["species"], z["cell"])
    t0 = time.perf_counter()
    with LammpsEngine(system, n_threads=1) as eng:
        inh = eng.minimize(conf)
    t1 = time.perf_counter()
    pairs = interacting_pairs(inh.positions, inh.species, inh.cell, table)
    m = hessian(inh.positions, inh.species, inh.cell, table, pairs)
    t2 = time.perf_counter()
    solver = HessianSolver(m)
    res = dipole_stiffness(
        inh.positions, inh.species, inh.cell, table, solver=solver, pairs=pairs, batch=args.batch, progress=True
    )
    t3 = time.perf_counter()
    g = shear_modulus(inh.positions, inh.species, inh.cell, table, solver=solver, pairs=pairs)
    info = inh.meta["minimize"]
    print(f"\n[1] {entry['id']}: N={len(inh.positions)}, {len(pairs)} interacting pairs, Hessian nnz={m.nnz}")
    print(f"    minimisation ({info['style']}, {info['iterations']} it, |F|={info['fnorm']:.1e}): {t1 - t0:.1f} s")
    print(
        f"    Hessian: {t2 - t1:.2f} s;  kappa for all pairs ({solver.backend} solver, max residual "
        f"{res.max_residual:.1e}): {t3 - t2:.1f} s;  peak RSS {rss_mb():.0f} MB"
    )
    print(
        f"    G = {g.G:.3f} (Born {g.born:.3f} - non-affine {g.nonaffine:.3f});  median kappa_ij = "
        f"{np.median(res.kappa_pairs):.2f}"
    )

    small = SystemSpec(name="small", n_atoms=args.small, density=system.density, temperature=system.temperature)
    with LammpsEngine(small, n_threads=1) as eng:
        eng.create(1)
        eng.thermalize(2, 1.0)
        eng.run([Segment(2.0, 0.0, record=False)])
        inh_s = eng.minimize(eng.snapshot())
    t4 = time.perf_counter()
    ours = dipole_stiffness(inh_s.positions, inh_s.species, inh_s.cell, table, batch=args.batch)
    t5 = time.perf_counter()
    batched = dipole_stiffness(inh_s.positions, inh_s.species, inh_s.cell, table, batch=args.batch, dense_bytes=0)
    t6 = time.perf_counter()
    ref = dense_baseline(inh_s, table)
    t7 = time.perf_counter()
    err = max(np.max(np.abs(x.kappa_pairs - ref) / ref) for x in (ours, batched))
    print(f"\n[2] small KA inherent state N={args.small}: {len(ours.kappa_pairs)} pairs")
    print(f"    baseline (dense pseudo-inverse + one solve per pair):  {t7 - t6:.2f} s")
    print(
        f"    taulc dense path (M+ by potri, M+^2 by one GEMM):       {t5 - t4:.2f} s  "
        f"ratio baseline / taulc = {(t7 - t6) / (t5 - t4):.1f}x"
    )
    print(
        f"    taulc bounded-memory path (6N batched solves):         {t6 - t5:.2f} s  "
        f"ratio baseline / taulc = {(t7 - t6) / (t6 - t5):.1f}x"
    )
    print(f"    max |dkappa|/kappa against the baseline = {err:.1e}")


if __name__ == "__main__":
    main()
