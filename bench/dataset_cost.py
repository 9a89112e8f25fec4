"""Estimate the core-hours (and GPU-hours) of building a dataset, from a short measured LAMMPS run.

Usage: ``python bench/dataset_cost.py dataset=sample_a [--threads 2] [--steps 400]
[--gpu-json results.json]``

Measures MD throughput (atom-steps per second) of the dataset's system with this
engine (create, short equilibration, then a timed sheared run), then counts the
MD steps every build stage needs from the composed config: equilibration,
reference runs, transients and sampling per rate, and 2 x n_replicas ICE runs of
t_max per sheared configuration (one set at rate 0).  Prints the stage table
and the total in core-hours; the baseline for the ratio is the demo dataset
measured the same way in the same run.

GPU-hours beside them: single-trajectory stages at one-replica OpenMM
throughput, ICE labels at the batched throughput for the configured number of
replicas (``labels.engine=openmm``).  Until measured here, the GPU throughputs
are the planning measurements of issue #14 (one NVIDIA H200, OpenMM 8.6, shear
off), labelled as such in the output; ``--gpu-json`` takes the JSON written by
``bench/replica_engine.py --json`` instead.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

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
    """MD steps per stage (times in LJ units / dt), from the typed dataset node the builder runs."""
    from taulc.config import from_mapping
    from taulc.data.specs import DatasetSpec

    ds = from_mapping(DatasetSpec, OmegaConf.to_container(cfg.dataset, resolve=True), "dataset")
    lab, sysm = cfg.labels, cfg.system
    dt = float(sysm.dt)
    n_cfg = int(ds.n_configs)
    sim = sum(ds.steady_protocol(r, dt).transient + n_cfg * ds.spacing for r in ds.rates)
    n_ice = sum((1 if r == 0 else 2) for r in ds.rates) * n_cfg * int(lab.n_replicas)
    return {
        "equilibration": (float(sysm.melt_time) + ds.equilibration_time) / dt,
        "reference": ds.reference_runs * ds.reference_duration(float(lab.t_max)) / dt,
        "steady-shear sampling": sim / dt,
        f"ICE labels ({n_ice} runs of t_max={float(lab.t_max):g})": n_ice * float(lab.t_max) / dt,
    }


#: Useful atom-steps/s measured while planning (issue #14): one NVIDIA H200, OpenMM 8.6,
#: KA N = 1500 demo configuration (R replicas as interaction groups of one System) and
#: N = 12000 (the box tiled 2x2x2), shear off, dt = 0.005.
PLANNING_H200 = {1500: {1: 1.5e7, 8: 9.4e7, 32: 2.1e8, 128: 2.9e8, 512: 3.2e8}, 12000: {1: 7.7e7, 8: 5.1e7}}


def gpu_table(path: Path | None) -> tuple[dict[int, dict[int, float]], str]:
    """GPU atom-steps/s by (N, R): from a ``bench/replica_engine.py --json`` file, else planning."""
    if path is None:
        return PLANNING_H200, "planning measurement, issue #14 (H200, OpenMM 8.6, shear off)"
    table: dict[int, dict[int, float]] = {}
    machine = "?"
    for row in json.loads(Path(path).read_text()):
        if "batched" in row and row.get("device") == "cuda":
            cur = table.setdefault(int(row["n"]), {})
            r = int(row["replicas"])
            cur[r] = min(cur.get(r, math.inf), float(row["batched"]))  # slower of shear off / on
            machine = row.get("machine", machine)
    if not table:
        raise SystemExit(f"{path}: no GPU rows (device 'cuda') from bench/replica_engine.py")
    return table, f"measured by bench/replica_engine.py on {machine}"


def gpu_rate(table: dict[int, dict[int, float]], n: int, replicas: int) -> float:
    """Best measured throughput at the nearest N using at most ``replicas`` replicas per batch."""
    near = min(table, key=lambda m: abs(math.log(m / n)))
    fit = [v for r, v in table[near].items() if r <= max(replicas, 1)]
    return max(fit) if fit else min(table[near].values())


def report(name: str, cfg, rate: float, threads: int, gpu: dict[int, dict[int, float]]) -> tuple[float, float]:
    n = int(cfg.system.n_atoms)
    n_rep = int(cfg.labels.n_replicas)
    rows = stage_steps(cfg)
    total_core_h = total_gpu_h = 0.0
    print(f"\n{name}: N={n}, measured {rate / 1e6:.2f} M atom-steps/s on {threads} thread(s)")
    print(f"  {'stage':<45s} {'MD steps':>12s}  {'core-h':>10s}  {'GPU-h':>9s}  GPU atom-steps/s")
    for k, steps in rows.items():
        core_h = steps * n / rate * threads / 3600
        g = gpu_rate(gpu, n, n_rep if k.startswith("ICE") else 1)
        gpu_h = steps * n / g / 3600
        total_core_h += core_h
        total_gpu_h += gpu_h
        print(f"  {k:<45s} {steps:12.3g}  {core_h:10.2f}  {gpu_h:9.3f}  {g:.2g}")
    print(f"  {'total':<45s} {'':>12s}  {total_core_h:10.2f}  {total_gpu_h:9.3f}")
    return total_core_h, total_gpu_h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--gpu-json",
        type=Path,
        default=None,
        help="GPU throughputs from bench/replica_engine.py --json (default: planning numbers)",
    )
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. dataset=sample_a")
    args = ap.parse_args()
    gpu, gpu_src = gpu_table(args.gpu_json)
    base = compose(["dataset=demo"])
    target = compose(args.overrides)
    r_base = throughput(base, args.steps, args.threads)
    r_target = throughput(target, args.steps, args.threads) if target.system.name != base.system.name else r_base
    c_base, _ = report("baseline: dataset=demo", base, r_base, args.threads, gpu)
    name = " ".join(args.overrides) or "dataset=demo"
    c_target, g_target = report(name, target, r_target, args.threads, gpu)
    print(f"\nratio {name} / demo: {c_target / c_base:.1f}x the demo's core-hours")
    print(f"GPU-hours: {g_target:.3g} for {name}; GPU throughputs: {gpu_src}; single-trajectory")
    print(" stages (equilibration, reference, steady shear) at one-replica throughput, ICE labels at")
    print(" the best batch of at most labels.n_replicas replicas (several configurations per batch")
    print(" would raise it further; not counted)")
    print("(throughput measured on this machine; OpenMP threads scale about linearly to ~8 per 10^4 atoms,")
    print(" and MPI ranks beyond that: divide wall time by the cores you give it)")


if __name__ == "__main__":
    main()
