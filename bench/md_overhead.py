"""Streaming overhead of taulc's MD engine against a bare LAMMPS run.

    python bench/md_overhead.py [--system demo] [--rate 0.01] [--duration 20]
                                [--sample-every 20] [--repeats 2] [--n-threads N]

The same steady-shear input (LJ pair, fix deform xy erate + remap v, fix
nvt on the peculiar velocities = textbook SLLOD, same configuration and rate) is run

* baseline: one bare ``run N`` through the LAMMPS library, no output;
* taulc: ``engine.run`` streaming every ``k`` steps (chunks ``run k pre no
  post no``, gather of x/image/v by atom id, windowed p_xy via fix ave/time,
  Yamamoto-Onuki non-affine integration, frame buffers in numpy);
* taulc with ``affine_integral='step'`` (exact per-step affine integral).

Runs alternate baseline/taulc ``--repeats`` times; the best time of each is
used.  Prints atom-steps/s and the throughput ratio taulc/baseline (target
>= 0.9 at the default k = 20).
"""

from __future__ import annotations

import argparse
import logging
import time

from taulc.md import LammpsEngine, Segment, load_system


def bare_run(
    system, conf, rate: float, n_steps: int, n_threads: int | None, stress_fix: str | None = None
) -> tuple[float, float]:
    """One bare ``run n_steps`` of the same input; returns (wall, cpu) seconds."""
    eng = LammpsEngine(system, n_threads=n_threads)
    eng.load(conf)
    eng.set_rate(rate)
    if stress_fix:
        eng.lmp.command(stress_fix)
    eng.lmp.command("run 0 post no")
    t0, c0 = time.perf_counter(), time.process_time()
    eng.lmp.command(f"run {n_steps}")
    out = time.perf_counter() - t0, time.process_time() - c0
    eng.close()
    return out


def taulc_run(system, conf, rate: float, duration: float, k: int, n_threads: int | None, affine: str) -> tuple[float, float]:
    """``engine.run`` streaming every k steps; returns (wall, cpu) seconds."""
    eng = LammpsEngine(system, n_threads=n_threads, affine_integral=affine)
    eng.load(conf)
    eng.set_rate(rate)
    eng.lmp.command("run 0 post no")
    t0, c0 = time.perf_counter(), time.process_time()
    traj = eng.run([Segment(duration, rate)], sample_every=k)
    out = time.perf_counter() - t0, time.process_time() - c0
    assert traj is not None and traj.nonaffine is not None
    eng.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", default="demo")
    p.add_argument("--rate", type=float, default=0.01)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--sample-every", type=int, nargs="+", default=[20])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n-threads", type=int, default=None)
    p.add_argument("--step-integral", action="store_true", help="also time affine_integral='step'")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    system = load_system(a.system)
    prep = LammpsEngine(system, n_threads=a.n_threads)
    conf = prep.equilibrate(seed=7, duration=5.0)
    prep.close()
    n_steps = int(round(a.duration / system.dt))
    work = system.n_atoms * n_steps
    print(
        f"system={system.name} N={system.n_atoms} rate={a.rate} steps={n_steps} "
        f"threads={a.n_threads or 'auto'} repeats={a.repeats} (best of)"
    )
    kmain = a.sample_every[0]
    stress_fix = f"fix sxy all ave/time 5 {kmain // 5} {kmain} c_pvir[4]" if kmain % 5 == 0 else None
    base: list[tuple[float, float]] = []
    base_s: list[tuple[float, float]] = []
    res: dict[tuple[int, str], list[tuple[float, float]]] = {}
    variants = ["trapezoid"] + (["step"] if a.step_integral else [])
    for _ in range(a.repeats):  # alternate, so that load changes hit all variants alike
        base.append(bare_run(system, conf, a.rate, n_steps, a.n_threads))
        if stress_fix:
            base_s.append(bare_run(system, conf, a.rate, n_steps, a.n_threads, stress_fix))
        for k in a.sample_every:
            for v in variants:
                res.setdefault((k, v), []).append(taulc_run(system, conf, a.rate, a.duration, k, a.n_threads, v))

    def best(ts: list[tuple[float, float]]) -> tuple[float, float]:
        return min(t[0] for t in ts), min(t[1] for t in ts)

    bw, bc = best(base)
    print("ratio = baseline time / taulc time (wall clock; CPU time in brackets)")
    print(f"baseline  bare LAMMPS run               : {work / bw:.3e} atom-steps/s ({bw:.2f} s wall, {bc:.2f} s cpu)")
    if base_s:
        sw, sc = best(base_s)
        print(f"baseline2 bare run + same p_xy ave/time : {work / sw:.3e} atom-steps/s ({sw:.2f} s wall, {sc:.2f} s cpu)")
    for (k, v), ts in res.items():
        tw, tc = best(ts)
        line = (
            f"taulc     k={k:<4d} {v:<10s}            : {work / tw:.3e} atom-steps/s "
            f"({tw:.2f} s wall, {tc:.2f} s cpu)  ratio = {bw / tw:.3f} [{bc / tc:.3f}]"
        )
        if base_s:
            line += f"  vs baseline2 {sw / tw:.3f} [{sc / tc:.3f}]"
        print(line)


if __name__ == "__main__":
    main()
