"""δ versus IS D_min from MD-DMS runs on a dataset configuration (Yu, Gao, Gao & Samwer, Eq. 1, Figs. 2, 4-5).

Run: ``python -m taulc.analysis.dms datasets/demo --shard r0.000e+00_c000 --periods 2 5 12.5 30``
(oscillatory protocol ``src/taulc/conf/protocol/oscillatory.yaml`` for γ0 and cycles). Writes
``dms.csv`` (t_w, G', G'', δ, IS D_min, labelled RMSD) and ``dms.png`` (G', G'',
δ vs t_w; δ vs IS D_min with the power-law fit of Eq. 1 when D_min spans a factor ≥ 2).
``--replot reports/dms/dms.csv`` redraws the figure without MD.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from taulc.analysis.plotting import plain_log_ticks, plt, save_figure
from taulc.data.manifest import read_manifest
from taulc.data.storage import atomic_write_with, load_npz
from taulc.hydra_app import add_version_flag
from taulc.md import Configuration, LammpsEngine, SystemSpec, load_protocol
from taulc.physics.dms import dms_scan, power_law_fit
from taulc.utils import install_tqdm_logging

log = logging.getLogger(__name__)


MIN_FIT_SPAN = 2.0
"""Smallest max/min ratio of IS D_min over which the power law δ = a D^b (Eq. 1) is fitted and drawn."""


def plot_dms(table: pd.DataFrame, path: Path, title: str = "", min_span: float = MIN_FIT_SPAN) -> Path:
    """G', G'', δ vs t_w (left) and δ vs IS D_min (right).

    The power law of Eq. 1 is fitted only when IS D_min spans at least a factor ``min_span``;
    a saturated D_min (the periods all longer than the inherent-structure decorrelation time)
    cannot test it, and the panel says so instead of drawing a meaningless line.
    """

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    ax[0].loglog(table.period, table.storage, "o-", label="G'")
    ax[0].loglog(table.period, np.abs(table.loss), "s-", label="G''")
    ax[0].set_xlabel(r"period $t_w$")
    ax[0].set_ylabel("modulus")
    a2 = ax[0].twinx()
    a2.plot(table.period, table.delta, "k^--", label=r"$\delta$")
    a2.set_ylabel(r"phase angle $\delta$ (rad)")
    h0, l0 = ax[0].get_legend_handles_labels()
    h1, l1 = a2.get_legend_handles_labels()
    ax[0].legend(h0 + h1, l0 + l1, frameon=False, loc="center left", fontsize=8)
    plain_log_ticks(ax[0])
    ax[1].loglog(table.is_dmin, table.delta, "ko", label="IS $D_{min}$")
    ax[1].loglog(table.labelled_rmsd, table.delta, "o", mfc="none", color="0.5", label="labelled RMSD")
    ok = (table.delta > 0) & (table.is_dmin > 0)
    span = float(table.is_dmin[ok].max() / table.is_dmin[ok].min()) if ok.sum() >= 2 else 1.0
    if ok.sum() >= 2 and span >= min_span:
        a, b = power_law_fit(table.is_dmin[ok], table.delta[ok])
        x = np.geomspace(table.is_dmin[ok].min(), table.is_dmin[ok].max(), 20)
        ax[1].loglog(x, a * x**b, "r-", label=rf"$\delta = {a:.2f}\,D^{{{b:.2f}}}$")
    else:
        ax[1].set_title(f"IS $D_{{min}}$ spans x{span:.2f} < x{min_span:g}: no power-law fit (Eq. 1)", fontsize=8)
    plain_log_ticks(ax[1])
    ax[1].set_xlabel("displacement over one period")
    ax[1].set_ylabel(r"$\delta$")
    ax[1].legend(frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("root", type=Path)
    p.add_argument("--shard", default=None, help="shard id (default: the first one)")
    p.add_argument("--periods", type=float, nargs="+", default=[2.0, 5.0, 12.5, 30.0])
    p.add_argument("--protocol", default="oscillatory", help="src/taulc/conf/protocol/<name>.yaml (gamma0, n_cycles)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("reports/dms"))
    p.add_argument("--replot", type=Path, default=None, help="redraw dms.png from this dms.csv (no MD)")

    add_version_flag(p, "python -m taulc.analysis.dms")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    install_tqdm_logging()  # log lines above the progress bars
    if args.replot is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        plot_dms(pd.read_csv(args.replot), args.out / "dms.png", args.replot.parent.name)
        return

    man = read_manifest(args.root)
    ids = [s["id"] for s in man["shards"]]
    entry = man["shards"][ids.index(args.shard) if args.shard else 0]
    z = load_npz(args.root / entry["file"], ("positions", "species", "cell"))
    system = SystemSpec.from_config(man["config"]["system"])
    proto = load_protocol(args.protocol)
    conf = Configuration(z["positions"], z["species"], z["cell"], None, {})
    t0 = time.perf_counter()
    with LammpsEngine(system, n_threads=args.threads, sample_every=proto.sample_every) as eng:
        rows = dms_scan(eng, conf, proto.gamma0, args.periods, n_cycles=proto.n_cycles, seed=args.seed)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_with(args.out / "dms.csv", lambda tmp: table.to_csv(tmp, index=False))
    plot_dms(
        table, args.out / "dms.png", f"{entry['id']} (N={system.n_atoms}, T={system.temperature}), $\\gamma_0$={proto.gamma0}"
    )
    print(table.to_string(index=False))
    print(f"wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
