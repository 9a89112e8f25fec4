"""Learning curve: the honest score against the number of training configurations per shear rate.

Train the same model on nested subsets of the training configurations with a Hydra multirun
(``split.train_configs`` keeps n per rate, drawn with ``seed``; validation and test stay the
same, so every point is scored on the same test particles), then collect the runs::

    python train.py -m model=ridge split.train_configs=2,4,7,10,14,20 seed=0,1,2 \\
        hydra.sweep.dir=runs/learning_curve
    python -m taulc.analysis.learning_curve runs/learning_curve --out reports/learning_curve

For each run the ``skill`` section of its metrics gives the big-particle Pearson within each
shear rate (the honest-skill table, :mod:`taulc.evaluation.skill`) and its noise ceiling; the command
prints the mean and standard deviation over seeds per number of configurations and rate, writes
``learning_curve.json`` / ``learning_curve.csv`` and draws ``learning_curve.png`` (one line per rate,
the within-rate mean in black, the mean noise ceiling dashed).  A run without
``split.train_configs`` counts with the dataset's full number of training configurations.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from taulc.errors import exit_on_error
from taulc.fileio import atomic_write_json, atomic_write_text, atomic_write_with
from taulc.runs import runs_below

log = logging.getLogger(__name__)

__all__ = ["collect_runs", "learning_curve", "plot_learning_curve", "main"]


def collect_runs(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """One record per run with metrics at or below ``paths`` (:func:`taulc.runs.runs_below`): configurations,
    seed, scores."""

    out = []
    for run in runs_below(paths):
        m = run.read_metrics()
        t = (m.get("skill") or {}).get("regression") or (m.get("skill") or {}).get("hardness")
        if not t:
            log.warning("%s: no honest-skill table; skipped", run.metrics_path)
            continue
        rows = {str(r["group"]): r for r in t["rows"] if r["scope"] == "rate"}
        n_cfg = (m.get("split") or {}).get("train_configs")
        if n_cfg is None:  # all training configurations: the recorded training configurations per scored rate
            cfgs = (m.get("configs") or {}).get("train") or []
            n_cfg = len(cfgs) // max(1, len(rows)) if cfgs else math.nan
        out.append(
            {
                "run": str(run.path),
                "model": m.get("model"),
                "n_configs": n_cfg,
                "seed": (m.get("split") or {}).get("seed"),
                "pearson": {g: float(r["pearson"]) for g, r in rows.items()},
                "ceiling": {g: float(r["ceiling"]) for g, r in rows.items()},
                "within_rate_mean": float(t["headline"].get("pearson", math.nan)),
            }
        )
    if not out:
        raise FileNotFoundError(f"no run with an honest-skill table under {list(map(str, paths))}")
    return out


def learning_curve(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and s.d. over seeds of each rate's Pearson and of the within-rate mean, per number of configurations."""
    ns = sorted({r["n_configs"] for r in records})
    rates = sorted({g for r in records for g in r["pearson"]}, key=float)
    points = []
    for n in ns:
        rs = [r for r in records if r["n_configs"] == n]
        pt: dict[str, Any] = {"n_configs": n, "n_runs": len(rs)}
        for g in rates:
            v = np.array([r["pearson"].get(g, math.nan) for r in rs])
            pt[f"pearson_{g}"] = float(np.nanmean(v))
            pt[f"sd_{g}"] = float(np.nanstd(v, ddof=1)) if len(v) > 1 else math.nan
        v = np.array([r["within_rate_mean"] for r in rs])
        pt["within_rate_mean"] = float(v.mean())
        pt["sd_within_rate_mean"] = float(v.std(ddof=1)) if len(v) > 1 else math.nan
        points.append(pt)
    ceil = {g: float(np.nanmean([r["ceiling"].get(g, math.nan) for r in records])) for g in rates}
    return {
        "rates": rates,
        "points": points,
        "ceiling": ceil,
        "ceiling_mean": float(np.nanmean(list(ceil.values()))),
        "models": sorted({str(r["model"]) for r in records}),
    }


def plot_learning_curve(res: dict[str, Any], path: Path) -> Path:
    """Pearson per rate (colours) and its within-rate mean (black) against training configurations per rate."""
    from taulc.analysis.plotting import RatePalette, plt, rate_label  # noqa: PLC0415 - lazy: matplotlib, only for the figures

    pts = res["points"]
    x = [p["n_configs"] for p in pts]
    pal = RatePalette([float(g) for g in res["rates"]])
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    for g in res["rates"]:
        ax.errorbar(
            x,
            [p[f"pearson_{g}"] for p in pts],
            yerr=[p[f"sd_{g}"] for p in pts],
            marker="o",
            ms=3.5,
            capsize=2,
            lw=1.0,
            color=pal(float(g)),
            label=rate_label(float(g)),
        )
    ax.errorbar(
        x,
        [p["within_rate_mean"] for p in pts],
        yerr=[p["sd_within_rate_mean"] for p in pts],
        marker="s",
        ms=4.5,
        capsize=2,
        lw=2.0,
        color="k",
        label="within-rate mean",
    )
    ax.axhline(res["ceiling_mean"], color="k", ls="--", lw=0.8, label=f"noise ceiling (mean) {res['ceiling_mean']:.2f}")
    ax.set_xlabel("training configurations per shear rate")
    ax.set_ylabel("Pearson with ln τ_LC (big particles, test)")
    ax.set_ylim(0, 1)
    ax.set_title(f"learning curve: {', '.join(res['models'])} (bars: s.d. over seeds)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
    return Path(path)


def main(argv: list[str] | None = None) -> None:
    """``python -m taulc.analysis.learning_curve RUNS... [--out DIR]``."""

    from taulc.analysis.writer import markdown_table  # noqa: PLC0415 - lazy: matplotlib, only for the figures

    p = argparse.ArgumentParser(prog="python -m taulc.analysis.learning_curve", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="multirun directories or run directories (runs with metrics below)")
    p.add_argument("--out", type=Path, default=Path("."), help="directory for learning_curve.{json,csv,png}")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with exit_on_error("learning_curve"):
        res = learning_curve(collect_runs(args.runs))
        df = pd.DataFrame(res["points"])
        print(markdown_table(df))
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out / "learning_curve.json", res)
        atomic_write_text(args.out / "learning_curve.csv", df.to_csv(index=False))
        plot_learning_curve(res, args.out / "learning_curve.png")
    print(f"wrote {args.out / 'learning_curve.json'}, .csv and .png")


if __name__ == "__main__":
    main()
