"""Estimate the core-hours of building a dataset, from a short measured LAMMPS run.

Usage: ``python bench/dataset_cost.py dataset=sample_a [engine.threads=2] [--steps 400]``

Measures MD throughput (atom-steps per second) of the dataset's system with this
engine (create, short equilibration, then a timed sheared run), then counts the
MD steps every build stage needs from the composed config: equilibration,
reference runs, transients and sampling per rate, and 2 x n_replicas ICE runs of
t_max per sheared configuration (one set at rate 0).  Prints the stage table
and the total in core-hours; the baseline for the ratio is the demo dataset
measured the same way in the same run.
"""

from __future__ import annotations

import argparse
import time

from omegaconf import OmegaConf


def compose(overrides: list[str]):
    from hydra import compose as hcompose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from taulc.paths import conf_dir

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return hcompose(config_name="build", overrides=overrides)


def throughput(cfg, steps: int, threads: int) -> float:
    """Measured atom-steps per second of a sheared run of the dataset's system."""
    from taulc.md.engine import Segment
    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec

    system = SystemSpec.from_config(OmegaConf.to_container(cfg.system, resolve=True))
    eng = LammpsEngine(system, n_threads=threads)
    try:
        eng.create(1)
        eng.thermalize(2)
        eng.run([Segment(50 * system.dt, 0.0, record=False)])
        t0 = time.perf_counter()
        eng.run([Segment(steps * system.dt, 0.01, record=False)])
        dt = time.perf_counter() - t0
    finally:
        eng.close()
    return system.n_atoms * steps / dt


def stage_steps(cfg) -> dict[str, float]:
    """MD steps per stage (times in LJ units / dt)."""
    ds, lab, sysm = cfg.dataset, cfg.labels, cfg.system
    dt = float(sysm.dt)
    rates = [float(r) for r in ds.rates]
    n_cfg = int(ds.n_configs)
    sim = 0.0
    for r in rates:
        tr = float(ds.transient_time)
        if r > 0:
            tr = max(tr, min(float(ds.transient_strain) / r, float(ds.transient_time_max)))
        sim += tr + n_cfg * float(ds.spacing)
    n_ice = sum((1 if r == 0 else 2) for r in rates) * n_cfg * int(lab.n_replicas)
    return {
        "equilibration": (float(sysm.melt_time) + float(ds.equilibration_time)) / dt,
        "reference": int(ds.get("reference_runs", 2)) * float(ds.get("reference_time", 2 * float(lab.t_max))) / dt,
        "steady-shear sampling": sim / dt,
        f"ICE labels ({n_ice} runs of t_max={float(lab.t_max):g})": n_ice * float(lab.t_max) / dt,
    }


def report(name: str, cfg, rate: float, threads: int) -> float:
    n = int(cfg.system.n_atoms)
    rows = stage_steps(cfg)
    total_core_h = 0.0
    print(f"\n{name}: N={n}, measured {rate / 1e6:.2f} M atom-steps/s on {threads} thread(s)")
    for k, steps in rows.items():
        core_h = steps * n / rate * threads / 3600
        total_core_h += core_h
        print(f"  {k:<45s} {steps:12.3g} steps  {core_h:10.2f} core-h")
    print(f"  {'total':<45s} {'':>18s} {total_core_h:10.2f} core-h")
    return total_core_h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. dataset=sample_a")
    args = ap.parse_args()
    base = compose(["dataset=demo"])
    target = compose(args.overrides)
    r_base = throughput(base, args.steps, args.threads)
    r_target = throughput(target, args.steps, args.threads) if target.system.name != base.system.name else r_base
    c_base = report("baseline: dataset=demo", base, r_base, args.threads)
    name = " ".join(args.overrides) or "dataset=demo"
    c_target = report(name, target, r_target, args.threads)
    print(f"\nratio {name} / demo: {c_target / c_base:.1f}x the demo's core-hours")
    print("(throughput measured on this machine; OpenMP threads scale about linearly to ~8 per 10^4 atoms,")
    print(" and MPI ranks beyond that: divide wall time by the cores you give it)")


if __name__ == "__main__":
    main()
