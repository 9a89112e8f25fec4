"""Steady-shear trajectories of the demo system for the convective-cluster analysis.

    OMP_NUM_THREADS=1 nice -n 10 python bench/cluster_runs.py --out runs/clusters_md \
        --rates 0.01 0.02 0.05 0.1 --duration 40 --transient 15

Starts every rate from the demo dataset's steady-shear configuration of the nearest
rate (``datasets/demo/shards``; positions + tilted cell, no velocities), draws
Maxwell-Boltzmann velocities, runs an unrecorded transient at the target rate and
then records ``--duration`` time units every ``--sample-every`` MD steps with the
engine's streaming of unwrapped positions and Yamamoto-Onuki non-affine
displacements (:meth:`taulc.md.engine.MDEngine.run`).  One ``.npz`` per rate
(``steady_r<rate>.npz``: times, unwrapped, nonaffine, stress_xy, strain, tilt,
cell, species, rate) is written atomically; the analysis is
``python -m taulc.analysis.clusters_report <out>``.  Not a test; prints the MD time.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from taulc.data.storage import load_npz, save_npz
from taulc.md import LammpsEngine, Segment, load_system
from taulc.md.configuration import Configuration

log = logging.getLogger("cluster_runs")


def start_configuration(shards: Path, rate: float, index: int) -> Configuration:
    """Steady-shear configuration of the demo dataset at the rate closest (in ln γ̇) to ``rate``."""
    files = sorted(shards.glob(f"r*_c{index:03d}.npz"))
    cands = [(abs(np.log(float(f.name[1:10]) / rate)), f) for f in files if float(f.name[1:10]) > 0]
    if not cands:
        raise FileNotFoundError(f"{shards}: no sheared shard r*_c{index:03d}.npz (build the demo dataset first)")
    path = min(cands)[1]
    z = load_npz(path, required=("positions", "species", "cell", "strain"))
    log.info("rate %g: starting from %s", rate, path.name)
    return Configuration(
        z["positions"], z["species"].astype(np.int64), z["cell"], None, {"time": 0.0, "strain": float(z["strain"])}
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/clusters_md")
    p.add_argument("--system", default="demo")
    p.add_argument("--shards", default="datasets/demo/shards")
    p.add_argument("--rates", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.1])
    p.add_argument("--duration", type=float, default=40.0, help="recorded time per rate (LJ)")
    p.add_argument("--transient", type=float, default=15.0, help="unrecorded time at the rate first")
    p.add_argument("--sample-every", type=int, default=20, help="MD steps between frames (0.1 tau)")
    p.add_argument("--config-index", type=int, default=0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--n-threads", type=int, default=1)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    system = load_system(a.system)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    with LammpsEngine(system, sample_every=a.sample_every, n_threads=a.n_threads) as eng:
        for rate in a.rates:
            t0 = time.perf_counter()
            eng.load(start_configuration(Path(a.shards), rate, a.config_index))
            eng.thermalize(a.seed)
            traj = eng.run([Segment(a.transient, rate, record=False), Segment(a.duration, rate)])
            assert traj is not None and traj.unwrapped is not None
            dt = time.perf_counter() - t0
            timings[f"{rate:g}"] = dt
            eta = traj.viscosity()
            log.info("rate %g: %d frames, eta = %.2f, %.0f s", rate, traj.n_frames, eta, dt)
            save_npz(
                out / f"steady_r{rate:.3e}.npz",
                {
                    "times": traj.times,
                    "unwrapped": traj.unwrapped,
                    "nonaffine": traj.nonaffine,
                    "stress_xy": traj.stress_xy,
                    "strain": traj.strain,
                    "tilt": traj.tilt,
                    "cell": traj.final.cell,
                    "species": traj.final.species,
                    "rate": np.float64(rate),
                    "temperature": np.float64(system.temperature),
                    "density": np.float64(system.density),
                },
            )
    (out / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"MD wall time per rate (s): {json.dumps(timings)}")


if __name__ == "__main__":
    main()
