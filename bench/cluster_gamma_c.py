"""γ_c of Eq. 5-7 both ways (incremental and referenced to t_0) on MD cluster life cycles, P̄_c and η_c.

    OMP_NUM_THREADS=1 nice -n 19 python bench/cluster_gamma_c.py runs/clusters_md reports/clusters_gamma_c

Input: ``bench/cluster_runs.py`` output.  Per rate, over the life cycles with t_0 < t_2 < t_3
(:func:`taulc.analysis.cluster_analysis.analyse_rate`, default settings): the medians of
γ_c(t_2)/[γ̇ (t_2 − t_0)] (rise) and of [γ_c(t_3) − γ_c(t_2)]/[γ̇ (t_3 − t_2)] (after yield) for
both readings, the fraction of cycles whose γ_c drops between t_2 and t_3, P̄_c both ways and η_c
(Eq. 8); the figure shows the cycle with the largest stress rise.  Not a test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from taulc.analysis.cluster_analysis import ClusterAnalysisSettings, analyse_rate, lc2_from_manifest
from taulc.md.system import load_system

out = Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
system = load_system("demo")
lc2 = lc2_from_manifest(Path("datasets/demo/manifest.json"))
best = None
summary = {}
for f in sorted(Path(sys.argv[1]).glob("steady_r*.npz")):
    r = analyse_rate(f, system, ClusterAnalysisSettings(), lc2)
    row = r.row()
    rows = []
    for lc in r.life_cycles:
        if not (np.isfinite(lc.t0) and np.isfinite(lc.t2) and np.isfinite(lc.t3) and lc.t3 > lc.t2):
            continue
        g = lambda y, t, lc=lc: float(np.interp(t, lc.times, y))  # noqa: E731
        app = g(lc.applied, lc.t2) - g(lc.applied, lc.t0)
        d_after = g(lc.applied, lc.t3) - g(lc.applied, lc.t2)
        rows.append(
            dict(
                rise_t0=g(lc.gamma_t0, lc.t2) / app,
                rise_inc=(g(lc.gamma, lc.t2) - g(lc.gamma, lc.t0)) / app,
                after_t0=(g(lc.gamma_t0, lc.t3) - g(lc.gamma_t0, lc.t2)) / max(d_after, 1e-12),
                after_inc=(g(lc.gamma, lc.t3) - g(lc.gamma, lc.t2)) / max(d_after, 1e-12),
                drop_t0=g(lc.gamma_t0, lc.t3) < g(lc.gamma_t0, lc.t2),
                drop_inc=g(lc.gamma, lc.t3) < g(lc.gamma, lc.t2),
            )
        )
        rise = lc.yield_stress - g(lc.sigma, lc.t0)
        if best is None or rise > best[0]:
            best = (rise, r.rate, lc)
    med = {k: float(np.median([x[k] for x in rows])) for k in ("rise_t0", "rise_inc", "after_t0", "after_inc")}
    frac = {k: float(np.mean([x[k] for x in rows])) for k in ("drop_t0", "drop_inc")}
    summary[f"{r.rate:g}"] = dict(
        n_cycles=len(rows),
        **med,
        **frac,
        eta=row["eta"],
        P_c=row["P_c"],
        P_c_conv=row["P_c_conv"],
        sigma_c_y=row["sigma_c_y"],
        eta_c=row["eta_c"],
        eta_c_conv=row["eta_c_conv"],
        t_chi=row["t_chi"],
        t_y=row["t_y"],
        n_yielding=row["n_yielding"],
        n_life_cycles=row["n_life_cycles"],
    )
    print(f"{r.rate:g}", json.dumps(summary[f"{r.rate:g}"]), flush=True)
_, rate, lc = best
t = lc.times
fig, ax = plt.subplots(figsize=(6.2, 3.8))
ax.plot(t, lc.sigma, color="C3", label=r"$\sigma_c$ (Eq. 4)")
ax.set_xlabel("t")
ax.set_ylabel(r"$\sigma_c$", color="C3")
b = ax.twinx()
b.plot(t, lc.gamma, color="C0", label=r"$\gamma_c$ incremental (Eq. 5-7 summed)")
b.plot(t, lc.gamma_t0, color="C1", lw=2, label=r"$\gamma_c$ referenced to $t_0$")
a0 = np.interp(lc.t0, t, lc.applied)
b.plot(t, np.where(t >= lc.t0, lc.applied - a0, np.nan), color="0.5", ls=":", label=r"$\dot\gamma\,(t-t_0)$")
b.set_ylabel(r"$\gamma_c$")
for tk in (lc.t0, lc.t1, lc.t2, lc.t3):
    ax.axvline(tk, color="0.6", ls="--", lw=0.8)
h1, l1 = ax.get_legend_handles_labels()
h2, l2 = b.get_legend_handles_labels()
ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
ax.set_title(f"MD cluster, demo system, rate {rate:g}, V = {lc.volume:.0f}; dashed: t0..t3", fontsize=9)
fig.savefig(out / "clusters_gamma_c_both_ways.png", dpi=110, bbox_inches="tight")
json.dump(
    {
        "summary": summary,
        "example": {
            "rate": rate,
            "volume": lc.volume,
            "t": [lc.t0, lc.t1, lc.t2, lc.t3],
            "gamma_t0_at_t2": float(np.interp(lc.t2, t, lc.gamma_t0)),
            "gamma_t0_at_t3": float(np.interp(lc.t3, t, lc.gamma_t0)),
            "gamma_inc_t0_t2": float(np.interp(lc.t2, t, lc.gamma) - np.interp(lc.t0, t, lc.gamma)),
            "applied_t0_t2": float(np.interp(lc.t2, t, lc.applied) - a0),
        },
    },
    open(out / "gamma_c.json", "w"),
    indent=1,
)
print(open(out / "gamma_c.json").read()[-600:])
