"""η = -<p_xy>/γ̇ (Eq. 1) on the demo state: textbook SLLOD (the engine now) against the legacy
``fix nvt/sllod`` scheme (what the LAMMPS engine used before), same start, same seeds.

    OMP_NUM_THREADS=1 nice -n 19 python bench/sllod_eta.py 0.1 60 1,2     # rate, recorded time, seeds
    OMP_NUM_THREADS=1 nice -n 19 python bench/sllod_eta.py 0.03 120 1

Starts from the demo shard ``r<rate>_c000`` (positions + tilted cell), draws velocities from
each seed, runs a transient (5 τ at γ̇ = 0.1, strain 0.2 otherwise) and records the window-
averaged virial p_xy every 200 steps; η ± s.e. from 8 blocks per run, runs combined by inverse
variance.  Not a test; prints one line per run and a JSON summary.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from taulc.md.configuration import Configuration
from taulc.md.engine import Segment
from taulc.md.lammps_engine import LammpsEngine, _f
from taulc.md.system import load_system
from taulc.paths import REPO_ROOT


class LegacySllod(LammpsEngine):
    """The engine with the old thermostat under shear: ``fix nvt/sllod`` (its default chain of 1)."""

    def _sllod_thermostat(self, t: float) -> None:
        self._cmd(f"fix integ all nvt/sllod temp {_f(t)} {_f(t)} {_f(self.system.tdamp)}")


def main(rate: float, duration: float, seeds: list[int]) -> dict:
    z = np.load(REPO_ROOT / "datasets" / "demo" / "shards" / f"r{rate:.3e}_c000.npz")
    conf = Configuration(z["positions"].astype(float), z["species"].astype(np.int64), z["cell"].astype(float), None, {})
    system = load_system("demo")
    out: dict = {"rate": rate, "duration": duration, "seeds": seeds}
    for name, cls in (("textbook", LammpsEngine), ("legacy", LegacySllod)):
        vals = []
        for sd in seeds:
            t0 = time.time()
            with cls(system, n_threads=1) as eng:
                eng.load(conf)
                eng.thermalize(sd)
                transient = 5.0 if rate >= 0.1 else 0.2 / rate
                tr = eng.run([Segment(transient, rate, record=False), Segment(duration, rate)], sample_every=200)
            p = -tr.stress_xy[1:] / rate
            blocks = p[: p.size // 8 * 8].reshape(8, -1).mean(axis=1)
            vals.append((blocks.mean(), blocks.std(ddof=1) / np.sqrt(8)))
            print(
                f"{name} seed {sd}: eta {vals[-1][0]:.3f} +- {vals[-1][1]:.3f}  "
                f"<T> {tr.temperature[1:].mean():.4f}  {time.time() - t0:.0f} s",
                flush=True,
            )
        m = np.array(vals)
        w = 1.0 / m[:, 1] ** 2
        out[name] = (float((m[:, 0] * w).sum() / w.sum()), float(1.0 / np.sqrt(w.sum())))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")])
