"""ICE-averaged life cycle of one convective cluster and of a contrast region (Zeng, Yu & Wang 2025,
Fig. 2a, 2i and Fig. 6: "50 ICE replicas for each cluster" in 3D MD).

    OMP_NUM_THREADS=1 nice -n 10 python bench/cluster_ice.py runs/clusters_md/steady_r1.000e-02.npz \
        --replicas 16 --out reports/clusters_ice

Demarcates the clusters of the trajectory (:func:`taulc.analysis.cluster_analysis.analyse_rate`),
takes the largest cluster of a window ending at t_ref ≥ 2 t_χ, restarts ``--replicas``
isoconfigurational replicas from the configuration at t_ref - 2 t_χ (fresh velocities, same
rate) for 2.5 t_χ, traces the cluster and a background sphere of the same volume in each
replica (affine traceback), and writes the replica-averaged σ_c(t), γ_c(t) with t_0..t_3
(``life_cycle_ice.png``, ``life_cycle_ice.json``).  Not a test; prints the MD and analysis time.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from taulc.analysis.cluster_analysis import (
    ClusterAnalysisSettings,
    analyse_rate,
    lc2_from_manifest,
)
from taulc.data.storage import atomic_write_json, load_npz
from taulc.md import LammpsEngine, load_system
from taulc.physics.clusters import (
    ice_life_cycles,
    life_cycle,
    mean_life_cycle,
    sphere_region,
)
from taulc.physics.stress import (
    atomic_shear_stress_frames,
    frame_cell,
    particle_volumes,
)
from taulc.structure.neighbors import minimum_image
from taulc.structure.periodic_grid import grid_positions

log = logging.getLogger("cluster_ice")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trajectory")
    p.add_argument("--out", default="reports/clusters_ice")
    p.add_argument("--system", default="demo")
    p.add_argument("--manifest", default="datasets/demo/manifest.json")
    p.add_argument("--replicas", type=int, default=16)
    p.add_argument("--seed", type=int, default=11)
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import matplotlib.pyplot as plt

    from taulc.analysis.plotting import save_figure

    system = load_system(a.system)
    t_start = time.perf_counter()
    res = analyse_rate(
        Path(a.trajectory), system, ClusterAnalysisSettings(max_life_cycles=1), lc2_from_manifest(Path(a.manifest))
    )
    z = load_npz(a.trajectory)
    times, unwrapped, strain, tilt, cell = z["times"], z["unwrapped"], z["strain"], z["tilt"], z["cell"]
    species = z["species"].astype(np.int64)
    dt = float(times[1] - times[0])
    back, fwd = int(round(2 * res.t_chi / dt)), int(round(0.5 * res.t_chi / dt))
    cands = [
        (float(cs.volumes.max()), wi)
        for wi, (cs, e) in enumerate(zip(res.cluster_sets, res.window_ends))
        if cs.n_clusters and e - back >= 0 and e + fwd < len(times)
    ]
    if not cands:
        raise SystemExit("no cluster with a full traceback window; run longer")
    _, wi = max(cands)
    cs, e = res.cluster_sets[wi], res.window_ends[wi]
    k = int(np.argmax(cs.volumes)) + 1
    f0 = e - back
    # contrast region: a sphere of the same volume around the background node with fewest cluster nodes nearby
    rad = float(cs.radii[k - 1])
    n = cs.labels.shape[0]
    nodes = grid_positions(cs.cell, n).reshape(-1, 3)
    lab = cs.labels.ravel()
    rng = np.random.default_rng(0)
    cand = rng.choice(np.nonzero(lab == 0)[0], size=min(60, int((lab == 0).sum())), replace=False)
    d2 = np.stack([np.einsum("ij,ij->i", dd, dd) for dd in (minimum_image(nodes - nodes[c], cs.cell) for c in cand)])
    best = cand[int(np.argmin(((d2 <= rad**2) & (lab > 0)[None]).sum(axis=1)))]
    sphere = sphere_region(cs.cell, nodes[best], rad, n_grid=40)
    regions = [(cs, k), (sphere, 1)]
    # the same cluster in the original trajectory (one realisation)
    frames = np.arange(f0, e + fwd + 1)
    omega = particle_volumes(system, species, abs(np.linalg.det(cell)))
    sig = atomic_shear_stress_frames(unwrapped, tilt, cell, species, system, frames=frames)
    single = life_cycle(cs, k, frames, times, unwrapped, strain, sig, omega, float(strain[e]))
    t_md = time.perf_counter()
    with LammpsEngine(system, n_threads=1) as eng:
        out = ice_life_cycles(
            eng,
            regions,
            unwrapped[f0],
            species,
            frame_cell(cell, float(tilt[f0])),
            float(strain[f0]),
            float(strain[e]),
            res.rate,
            (back + fwd) * dt,
            a.replicas,
            a.seed,
            lc2=res.lc2,
        )
    t_md = time.perf_counter() - t_md
    mean = [mean_life_cycle(o) for o in out]
    sem = [np.std(np.stack([c.sigma for c in o]), axis=0, ddof=1) / np.sqrt(len(o)) for o in out]
    tt = mean[0].times + times[f0]
    fig, axs = plt.subplots(2, 1, figsize=(6.5, 6), sharex=True)
    for ax, m, s_, name in zip(axs, mean, sem, ("cluster", "contrast sphere (background)")):
        ax.fill_between(tt, m.sigma - s_, m.sigma + s_, color="C3", alpha=0.25)
        ax.plot(tt, m.sigma, color="C3", label=r"$\sigma_c$ (ICE mean)")
        if name == "cluster":
            ax.plot(single.times, single.sigma, color="0.6", lw=0.7, label="one trajectory")
            for tk in (m.t0, m.t1, m.t2, m.t3):
                if np.isfinite(tk):
                    ax.axvline(tk + times[f0], color="0.5", ls="--", lw=0.8)
        ax2 = ax.twinx()
        ax2.plot(tt, m.gamma, color="C0")
        ax2.set_ylabel(r"$\gamma_c$", color="C0")
        ax.set_ylabel(r"$\sigma_c$")
        ax.set_title(f"{name}: V = {m.volume:.0f}, {len(out[0])} ICE replicas, rate {res.rate:g}")
        ax.legend(loc="upper left", fontsize=8)
    axs[1].set_xlabel("t")
    out_dir = Path(a.out)
    save_figure(fig, out_dir / "life_cycle_ice.png")
    summ = {
        "rate": res.rate,
        "t_chi": res.t_chi,
        "t_ref": float(times[e]),
        "t_start": float(times[f0]),
        "n_replicas": len(out[0]),
        "md_seconds": t_md,
        "total_seconds": time.perf_counter() - t_start,
    }
    for m, s_, name in zip(mean, sem, ("cluster", "contrast")):
        i0 = int(np.searchsorted(m.times, m.t0)) if np.isfinite(m.t0) else 0
        summ[name] = {
            "volume": m.volume,
            "t0": m.t0,
            "t1": m.t1,
            "t2": m.t2,
            "t3": m.t3,
            "t_y": m.yield_time,
            "sigma_start": float(m.sigma[i0]),
            "sigma_y": m.yield_stress,
            "sigma_sem_median": float(np.median(s_)),
            "sigma_mean": float(np.mean(m.sigma)),
            "gamma_end": float(m.gamma[-1]),
            "times": m.times.tolist(),
            "sigma": m.sigma.tolist(),
            "gamma": m.gamma.tolist(),
        }
    atomic_write_json(out_dir / "life_cycle_ice.json", summ)
    c = summ["cluster"]
    print(
        f"rate {res.rate:g}, t_chi {res.t_chi:.2f}; cluster V {c['volume']:.0f}: t0 {c['t0']:.2f} t1 {c['t1']:.2f} "
        f"t2 {c['t2']:.2f} t3 {c['t3']:.2f} (t_y {c['t_y']:.2f}); sigma_c {c['sigma_start']:.3f} -> "
        f"{c['sigma_y']:.3f} (sem {c['sigma_sem_median']:.3f}); contrast sigma mean "
        f"{summ['contrast']['sigma_mean']:.3f}; MD {t_md:.0f} s, total {summ['total_seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
