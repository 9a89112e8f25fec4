"""Measure the α-relaxation of a system: τ_α, α2 peak and τ_2.

    python bench/md_relaxation.py --system demo [--duration 150] [--n-threads 2]

Equilibrates the system (src/taulc/conf/system/<name>.yaml), runs a quiescent NVT
trajectory streamed every ``--sample-every`` steps and prints, for the big
particles, the self-intermediate scattering function
F_s(q,t) = <sin(q|Δr|)/(q|Δr|)> at q = 7.25 (τ_α: F_s = 1/e), the
non-Gaussian parameter α2(t) = 3<Δr⁴>/(5<Δr²>²) - 1 (peak value and its time
τ_2) and the MD throughput.  Averages over time origins every ``--origin``
time units.  Not a test; the numbers go into docs/guide/simulate.md.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from taulc.md import LammpsEngine, Segment, load_system

log = logging.getLogger("md_relaxation")


def self_dynamics(
    unwrapped: np.ndarray, dt_frame: float, q: float, origin_every: int, lags: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """F_s(q, t), MSD and α2 at frame lags ``lags`` averaged over time origins."""
    n_frames = unwrapped.shape[0]
    fs, msd, a2 = [], [], []
    for lag in lags:
        origins = np.arange(0, n_frames - lag, origin_every)
        d = unwrapped[origins + lag] - unwrapped[origins]  # (O, N, 3)
        r2 = np.einsum("oij,oij->oi", d, d)
        r = np.sqrt(r2)
        qr = q * r
        fs.append(float(np.mean(np.where(qr > 1e-12, np.sin(qr) / np.where(qr > 0, qr, 1), 1.0))))
        m2 = float(r2.mean())
        m4 = float((r2 * r2).mean())
        msd.append(m2)
        a2.append(3.0 * m4 / (5.0 * m2 * m2) - 1.0)
    return lags * dt_frame, np.array(fs), np.array(msd), np.array(a2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", default="demo")
    p.add_argument("--duration", type=float, default=150.0, help="production run (LJ time)")
    p.add_argument("--equilibration", type=float, default=None, help="default: system's")
    p.add_argument("--sample-every", type=int, default=20)
    p.add_argument("--origin", type=float, default=2.0, help="time between origins")
    p.add_argument("--q", type=float, default=7.25)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n-threads", type=int, default=None)
    p.add_argument("--temperature", type=float, default=None)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {} if a.temperature is None else {"temperature": a.temperature}
    system = load_system(a.system, **overrides)
    eng = LammpsEngine(system, sample_every=a.sample_every, n_threads=a.n_threads)
    t0 = time.perf_counter()
    eng.equilibrate(a.seed, a.equilibration)
    t_eq = time.perf_counter() - t0
    t0 = time.perf_counter()
    traj = eng.run([Segment(a.duration, 0.0)], sample_every=a.sample_every)
    t_run = time.perf_counter() - t0
    steps = eng.steps(a.duration)
    rate = system.n_atoms * steps / t_run
    big = traj.final.species == 0
    dtf = traj.dt_sample
    lags = np.unique(np.round(np.logspace(0, np.log10(traj.n_frames // 2), 40)).astype(int))
    times, fs, msd, a2 = self_dynamics(traj.unwrapped[:, big], dtf, a.q, max(1, int(round(a.origin / dtf))), lags)
    below = np.nonzero(fs < np.exp(-1))[0]
    if below.size:
        i = below[0]
        # log-linear interpolation of F_s = 1/e between the bracketing lags
        t1, t2, f1, f2 = times[i - 1], times[i], fs[i - 1], fs[i]
        tau_a = float(np.exp(np.log(t1) + (np.log(t2) - np.log(t1)) * (f1 - np.exp(-1)) / (f1 - f2)))
    else:
        tau_a = float("nan")
    j = int(np.argmax(a2))
    print(
        f"system={system.name} N={system.n_atoms} rho={system.density} T={system.temperature} "
        f"cutoff={system.cutoff} ({system.cutoff_mode}) threads={eng.n_threads}"
    )
    print(
        f"equilibration {eng.system.equilibration_time if a.equilibration is None else a.equilibration:g} "
        f"time units: {t_eq:.1f} s; production {a.duration:g}: {t_run:.1f} s"
    )
    print(f"throughput: {rate:.3e} atom-steps/s ({a.duration / t_run:.2f} LJ time units/s)")
    print(f"mean T = {traj.temperature.mean():.4f}, PE/N = {traj.potential_energy.mean():.4f}")
    print(f"tau_alpha (F_s(q={a.q})=1/e, big) = {tau_a:.2f}")
    print(f"alpha2 peak = {a2[j]:.3f} at tau_2 = {times[j]:.2f}")
    print("t  F_s  MSD  alpha2")
    for t, f, m, x in zip(times, fs, msd, a2):
        print(f"{t:8.2f} {f:.4f} {m:.4f} {x:.3f}")


if __name__ == "__main__":
    main()
