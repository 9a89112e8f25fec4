"""Batched ICE replicas (OpenMM, one System per configuration) vs LAMMPS: useful atom-steps/s.

Usage::

    python bench/replica_engine.py --preset cpu            # N=1500 at R=1,8 (2-core machine)
    python bench/replica_engine.py --preset gpu            # N=1500 at R=1,32,128,512; N=10976 at R=8
    python bench/replica_engine.py --sizes 1500:1,8 --steps 200 --rates 0 0.1 --device cpu

For every (N, R, γ̇) it times ``OpenMMEngine.ice_batch`` (all R replicas in one
context, frames read every ``--sample-every`` steps, unwrapped and non-affine
displacements built on the device) and prints R·N·steps/s.  The baseline is
LAMMPS on the same machine (one replica after another, so its atom-steps/s do
not depend on R) when the ``lammps`` module imports; otherwise OpenMM's CPU
platform on the same machine (``--baseline openmm-cpu``) is measured in the
same run and named as the baseline.  ``--labels`` adds the end-to-end label
cost (MD + torch first-jump detection, :func:`taulc.dynamics.labels.run_ice`)
per replica run of ``--label-tmax``: labels (configurations × replicas) per hour,
and its ratio to the bare MD time.  ``--json FILE`` writes all rows.

Configurations: N = 1500 uses the demo's ``r0.000e+00_c000`` configuration
(the one measured while planning); other N are created by the engine (random
start, push-off, minimisation) at the system's density (sample A: ρ = 1.38).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from taulc.md.configuration import Configuration  # noqa: E402
from taulc.md.engine import Segment, replica_seeds  # noqa: E402
from taulc.md.system import SystemSpec  # noqa: E402

log = logging.getLogger("bench.replica_engine")

PRESETS = {
    "cpu": {"sizes": ["1500:1,8"], "steps": 40, "rates": [0.0, 0.1], "label_tmax": 0.2},
    "gpu": {"sizes": ["1500:1,32,128,512", "10976:8"], "steps": 500, "rates": [0.0, 0.1], "label_tmax": 10.0},
}
SYSTEM_FOR_N = {1500: "demo", 10976: "sample_a", 9000: "sample_b"}


def system_spec(name: str, n_atoms: int) -> SystemSpec:
    """``src/taulc/conf/system/<name>.yaml`` (+ its defaults) read with PyYAML (no Hydra needed on a GPU box)."""
    import yaml

    folder = ROOT / "src" / "taulc" / "conf" / "system"

    def load(stem: str) -> dict:
        data = yaml.safe_load((folder / f"{stem}.yaml").read_text()) or {}
        merged: dict = {}
        for d in data.pop("defaults", []) or []:
            if d != "_self_":
                merged.update(load(str(d)))
        merged.update(data)
        return merged

    cfg = load(name)
    cfg["n_atoms"] = int(n_atoms)
    return SystemSpec.from_config(cfg)


def configuration(system: SystemSpec, engine) -> Configuration:
    demo = ROOT / "datasets" / "demo" / "shards" / "r0.000e+00_c000.npz"
    if system.n_atoms == 1500 and demo.exists():
        z = np.load(demo)
        return Configuration(
            z["positions"].astype(float), z["species"].astype(np.int64), z["cell"].astype(float), None, {"source": str(demo.name)}
        )
    log.info("creating a random N=%d configuration with the batched engine", system.n_atoms)
    engine.create(11)
    engine.thermalize(12)
    engine.run([Segment(20 * system.dt, 0.0, record=False)])
    return engine.snapshot()


def time_batched(engine, conf, r: int, rate: float, steps: int, every: int) -> float:
    """Useful atom-steps/s of ``ice_batch`` (warm-up run first: context build, kernel compile)."""
    seeds = replica_seeds(1, r)
    engine.ice_batch(conf, seeds, rate, every * engine.system.dt, sample_every=every)
    _sync(engine)
    t0 = time.perf_counter()
    engine.ice_batch(conf, seeds, rate, steps * engine.system.dt, sample_every=every)
    _sync(engine)
    return r * conf.n_atoms * steps / (time.perf_counter() - t0)


def _sync(engine) -> None:
    if engine.device == "cuda":
        import torch

        torch.cuda.synchronize()


def time_lammps(system, conf, rate: float, steps: int, every: int, threads: int | None) -> float:
    from taulc.md.lammps_engine import LammpsEngine

    with LammpsEngine(system, n_threads=threads) as eng:
        eng.load(conf)
        eng.thermalize(3)
        eng.run([Segment(every * system.dt, rate)], sample_every=every)
        t0 = time.perf_counter()
        eng.run([Segment(steps * system.dt, rate)], sample_every=every)
        return conf.n_atoms * steps / (time.perf_counter() - t0)


def labels_per_hour(engine, conf, r: int, t_max: float, every: int, md_rate: float) -> dict:
    """End-to-end ICE cost (MD + device detection) of R replicas of ``t_max`` at γ̇ = 0."""
    from taulc.dynamics.labels import LabelSettings, run_ice

    st = LabelSettings(n_replicas=r, t_max=t_max, sample_interval=every * engine.system.dt)
    batch = engine.batch_replicas
    engine.batch_replicas = r
    try:
        t0 = time.perf_counter()
        run = run_ice(engine, conf, 0.0, st, seed=5, lc2=0.057)
        _sync(engine)
        wall = time.perf_counter() - t0
    finally:
        engine.batch_replicas = batch
    steps = int(round(t_max / engine.system.dt))
    md_wall = r * conf.n_atoms * steps / md_rate
    return {
        "labels_per_hour": 3600.0 * r / wall,
        "wall_s": wall,
        "md_only_s": md_wall,
        "e2e_over_md": wall / md_wall,
        "censored": float(np.isnan(run.first_jump).mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None)
    ap.add_argument("--sizes", nargs="*", default=None, help="N:R1,R2,... e.g. 1500:1,8")
    ap.add_argument("--steps", type=int, default=None, help="timed MD steps per point")
    ap.add_argument("--rates", type=float, nargs="*", default=None)
    ap.add_argument("--sample-every", type=int, default=20)
    ap.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    ap.add_argument("--thermostat", default="replica", choices=["replica", "batch"])
    ap.add_argument("--baseline", default="auto", choices=["auto", "lammps", "openmm-cpu", "none"])
    ap.add_argument("--lammps-threads", type=int, default=None, help="default: all cores")
    ap.add_argument("--labels", action="store_true", help="also time labels end to end")
    ap.add_argument("--label-tmax", type=float, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    preset = PRESETS[args.preset or ("gpu" if args.device == "cuda" else "cpu")]
    sizes = args.sizes or preset["sizes"]
    steps = args.steps or preset["steps"]
    rates = preset["rates"] if args.rates is None else args.rates
    label_tmax = args.label_tmax or preset["label_tmax"]

    from taulc.md.openmm_engine import OpenMMEngine, resolve_device

    device = resolve_device(args.device)
    baseline = args.baseline
    if baseline == "auto":
        try:
            from taulc._mpi import import_lammps

            import_lammps()
            baseline = "lammps"
        except ImportError:
            baseline = "openmm-cpu"
    machine = f"{platform.node()} ({os.cpu_count()} CPU threads, {platform.machine()})"
    if device == "cuda":
        import torch

        machine += f", GPU {torch.cuda.get_device_name(0)}"
    print(
        f"machine: {machine}; batched engine on {device}, thermostat={args.thermostat}; "
        f"baseline: {baseline}; {steps} timed steps per point, frames every {args.sample_every}"
    )
    rows = []
    header = f"{'N':>6} {'R':>4} {'rate':>5} {'batched atom-steps/s':>21} {'baseline':>10} {'ratio':>7}"
    print(header)
    for spec in sizes:
        n_str, r_str = spec.split(":")
        n = int(n_str)
        system = system_spec(SYSTEM_FOR_N.get(n, "demo"), n)
        eng = OpenMMEngine(system, device=device, batch_replicas=1024, thermostat=args.thermostat, sample_every=args.sample_every)
        conf = configuration(system, eng)
        for rate in rates:
            if baseline == "lammps":
                base = time_lammps(system, conf, rate, steps, args.sample_every, args.lammps_threads)
            elif baseline == "openmm-cpu":
                cpu = OpenMMEngine(system, device="cpu", thermostat=args.thermostat, sample_every=args.sample_every)
                base = time_batched(cpu, conf, 1, rate, max(steps // 10, 20), args.sample_every)
            else:
                base = math.nan
            for r in (int(x) for x in r_str.split(",")):
                rate_b = time_batched(eng, conf, r, rate, steps, args.sample_every)
                row = {
                    "n": n,
                    "replicas": r,
                    "rate": rate,
                    "batched": rate_b,
                    "baseline": base,
                    "baseline_name": baseline,
                    "ratio": rate_b / base,
                    "device": device,
                    "thermostat": args.thermostat,
                    "machine": machine,
                    "steps": steps,
                }
                rows.append(row)
                print(f"{n:6d} {r:4d} {rate:5.2g} {rate_b:21.3g} {base:10.3g} {rate_b / base:7.2f}", flush=True)
        if args.labels:
            r = max(int(x) for x in r_str.split(","))
            md_rate = max(x["batched"] for x in rows if x["n"] == n and x["replicas"] == r and x["rate"] == 0.0)
            lab = labels_per_hour(eng, conf, r, label_tmax, args.sample_every, md_rate)
            lab.update(n=n, replicas=r, t_max=label_tmax, device=device, machine=machine)
            rows.append({"labels": lab})
            print(
                f"labels end to end, N={n}, R={r}, t_max={label_tmax:g} at γ̇=0: "
                f"{lab['labels_per_hour']:.3g} replica-runs per hour (wall {lab['wall_s']:.1f} s; "
                f"{lab['e2e_over_md']:.2f}x the bare MD time at the measured rate)",
                flush=True,
            )
        eng.close()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
