"""Command line of the convective-clusters report: the clusters section of the evaluation report
(:mod:`taulc.analysis.sections.clusters`) as a report of its own, for steady-shear runs written by
``bench/cluster_runs.py``::

    python -m taulc.analysis.clusters_report runs/clusters_md --out reports/clusters

``--set KEY=VALUE`` overrides :class:`~taulc.analysis.cluster_analysis.ClusterAnalysisSettings` fields.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from taulc.analysis.cluster_analysis import ClusterAnalysisSettings, analyse_runs
from taulc.analysis.sections.clusters import write_section
from taulc.analysis.writer import ReportWriter
from taulc.hydra_app import add_version_flag
from taulc.md.system import load_system
from taulc.utils import install_tqdm_logging

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m taulc.analysis.clusters_report <trajectories> --out <dir>``."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trajectories", help="folder with steady_r*.npz")
    p.add_argument("--out", default="reports/clusters")
    p.add_argument("--system", default="demo")
    p.add_argument("--manifest", default="datasets/demo/manifest.json", help="for l_c² (reference.lc2)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="ClusterAnalysisSettings fields")

    add_version_flag(p, "python -m taulc.analysis.clusters_report")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    install_tqdm_logging()  # log lines above the progress bars
    over = {}
    for kv in a.set:
        k, _, v = kv.partition("=")
        over[k] = (
            None if v.lower() in ("none", "null") else v if k == "phop_form" else int(v) if k == "max_life_cycles" else float(v)
        )
    s = ClusterAnalysisSettings.from_config(over)
    t0 = time.perf_counter()
    results = analyse_runs(Path(a.trajectories), load_system(a.system), s, Path(a.manifest), progress=True)
    rep = ReportWriter(Path(a.out))
    try:
        sc = write_section(rep, results)
        rep.summary["timings_s"] = {f"{r.rate:g}": r.timings for r in results}
        final = rep.finish(
            "Convective clusters report",
            [f"- trajectories: `{a.trajectories}`", f"- analysis time {time.perf_counter() - t0:.0f} s"],
        )
    except BaseException:
        rep.abort()
        raise
    print(f"report: {final / 'report.md'}")
    for r in results:
        row = r.row()
        print(
            f"rate {r.rate:g}: eta {row['eta']:.2f}  t_chi {row['t_chi']:.2f}  clusters {row['n_clusters']}  "
            f"xi_c {row['xi_c']:.2f}  P_c {row['P_c']:.2f}  P_c_conv {row['P_c_conv']:.2f}  t_y {row['t_y']:.2f}  "
            f"eta_c {row['eta_c']:.2f}  eta_c_conv {row['eta_c_conv']:.2f}"
        )
    if "nu_c" in sc:
        print(
            f"lambda/(D+1) = {sc['lambda_over_D1']:.3f} +- {sc['lambda_over_D1_err']:.3f}   "
            f"nu_c = {sc['nu_c']:.3f} +- {sc['nu_c_err']:.3f}   (paper 3D MD: 0.182 vs 0.176)"
        )


if __name__ == "__main__":
    main()
