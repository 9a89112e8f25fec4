"""``python evaluate.py``: one report directory with every figure (PNG), every number (CSV) and report.md.

A thin driver over the sections of :mod:`taulc.analysis.sections` (core paper numbering, Yu, Zeng & Wang 2025):

1. dynamics from the labels -- spectra (Figs. 2a-b, 6c), τ_sh(τ_LC) + Eq. 3 (Figs. 3a-b, 7),
   τ_LC,c vs 1/γ̇ (Fig. 3c-d), master curve Eq. 4 (Fig. 11), η(γ̇) and λ (Fig. 1);
2. hardness of the SVM run on *all* particles -- maps with Appendix A clusters (Fig. 19),
   H̄, p_H vs p_slow (Fig. 20);
3. regression parity of a ridge / GNN / MLP run (Fig. 17) with noise ceilings, from the run's saved test
   predictions;
4. feature importance -- Fig. 16 (all l ≤ 6), greedy ranking (Table I, Fig. 18), GNN attribution;
5. convective clusters of cage jumps and ν_c = λ/(D+1) (Zeng, Yu & Wang 2025) when
   ``analysis.clusters.trajectories`` names steady-shear runs (``bench/cluster_runs.py``);
6. start-up rheology (:mod:`taulc.analysis.sections.rheology`).

Runs are resolved by :func:`resolve_run` (:mod:`taulc.runs`) and read by :mod:`taulc.analysis.runs_index`;
the dataset comes from each run's dataset record (:mod:`taulc.runs.dataset`: its manifest hash checked; older
runs: re-composed from the run's config) and the descriptor from the run's config, unless ``dataset=`` is given (:mod:`taulc.analysis.context`); the
output is written by :class:`ReportWriter` (:mod:`taulc.analysis.writer`). What cannot be made (no SVM run,
one shear rate, ...) is listed in the report's "Skipped" section. The names below stay importable from here.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from taulc.analysis.context import DatasetContext, EvaluateSpec, dataset_of, load_context
from taulc.analysis.plotting import RatePalette
from taulc.analysis.runs_index import RunInfo, auto_runs, load_run, pick_run, resolve_run, run_dataset_of
from taulc.analysis.sections import SECTIONS, ReportInputs
from taulc.analysis.sections.dynamics import section_dynamics
from taulc.analysis.sections.gnn import section_gnn
from taulc.analysis.sections.hardness import section_hardness
from taulc.analysis.sections.importance import section_importance
from taulc.analysis.sections.parity import section_parity
from taulc.analysis.writer import ReportWriter, markdown_table
from taulc.utils import to_plain as _plain
from taulc.validate import check_output_dir

log = logging.getLogger("taulc.evaluate")

_dataset_of = dataset_of  # older name, used by docs/how-to tests

__all__ = [
    "RunInfo",
    "resolve_run",
    "load_run",
    "auto_runs",
    "pick_run",
    "ReportWriter",
    "markdown_table",
    "DatasetContext",
    "load_context",
    "section_dynamics",
    "section_hardness",
    "section_parity",
    "section_importance",
    "section_gnn",
    "evaluate",
    "summary_lines",
]


def evaluate(cfg: Mapping[str, Any], output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Build the report for ``cfg`` (``src/taulc/conf/evaluate.yaml``); returns the report directory."""

    t_start = time.perf_counter()
    c = _plain(cfg)
    spec = EvaluateSpec.from_config(c)  # the typed root, parsed once before any work: names the bad field
    if spec.out:
        check_output_dir(spec.out, "out")
    runs_root = Path(spec.runs_root)
    paths: list[Path] = []
    for s in [spec.run, *spec.extra_runs]:
        p = resolve_run(s, runs_root)
        if p is not None and p not in paths:
            paths.append(p)
    runs = [load_run(p) for p in paths]
    if spec.auto and runs:
        runs += auto_runs(runs, runs_root)
    if c.get("dataset"):  # the dataset group of evaluate's own config (dataset=<name>)
        root, dcfg = dataset_of(c)
        base_cfg = c
    elif runs:
        root, dcfg = run_dataset_of(runs[0], spec.data_root)
        base_cfg = runs[0].cfg
    else:
        raise ValueError("nothing to evaluate: give run=<dir|latest|model> and/or dataset=<name>")
    out = Path(spec.out or (Path(output_dir or ".") / "report"))
    log.info("report for %s on dataset %s -> %s", [r.name for r in runs] or "no run", root, out)
    ctx = load_context(root, dcfg)
    for r in runs:
        rroot, _ = run_dataset_of(r, spec.data_root)
        if rroot.resolve() != root.resolve():
            raise ValueError(
                f"run {r.path} was trained on {rroot}, but this report is for {root}; evaluate runs of one dataset together"
            )
    inputs = ReportInputs(ctx=ctx, runs=runs, base_cfg=base_cfg, acfg=spec.analysis, pal=RatePalette(ctx.rates))
    rep = ReportWriter(out)
    timings: dict[str, float] = {}
    try:
        # one bar over the sections (a terminal only: disable=None hides it when stderr is a file);
        # log lines go through tqdm.write (taulc.utils.install_tqdm_logging), so they do not garble it
        bar = tqdm(SECTIONS, desc="report", unit="section", disable=None, dynamic_ncols=True, leave=False)
        for sec in bar:
            t0 = time.perf_counter()
            bar.set_postfix_str(sec.name)
            log.info("section %s ...", sec.name)
            if not sec.write(rep, inputs):
                rep.skip(f"section '{sec.name}'", sec.why)
                continue
            timings[sec.name] = time.perf_counter() - t0
            log.info("section %s done in %.1f s", sec.name, timings[sec.name])
        bar.close()
        timings["total"] = time.perf_counter() - t_start
        rep.summary.update({"runs": [str(r.path) for r in runs], "dataset": str(root), "timings_s": timings})
        m = ctx.manifest
        header = [
            f"- dataset: `{root}` ({len(m['shards'])} configurations, rates {', '.join(f'{r:g}' for r in sorted(set(ctx.rates)))}, "
            f"{sum(len(s['species']) for s in ctx.shards)} particles)",
            *[
                f"- run: `{r.path}` ({r.model_class}, split `{r.split.kind}`, "
                f"descriptor {json.dumps(list((r.cfg.get('descriptor') or {}).get('families', {}).keys()))})"
                for r in runs
            ],
            f"- generated {time.strftime('%Y-%m-%d %H:%M:%S')} in {timings['total']:.1f} s "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in timings.items() if k != 'total')})",
        ]
        final = rep.finish("taulc evaluation report", header)
    except BaseException:
        rep.abort()
        raise
    for line in summary_lines(rep.summary, final):
        print(line)  # the headline result for the terminal
    return final


def summary_lines(s: Mapping[str, Any], path: Path) -> list[str]:
    """Short terminal summary."""
    lines = [f"report: {path / 'report.md'}"]
    if "lambda" in s and s["lambda"].get("lambda") is not None and np.isfinite(s["lambda"]["lambda"]):
        lines.append(f"shear thinning: lambda = {s['lambda']['lambda']:.3f} (eta ~ rate^-lambda)")
    for row in s.get("hardness", []):
        lines.append(
            f"  rate {row['rate']:g}: H bar {row['H_mean']:+.3f}  p_H {row['p_H']:.3f}  "
            f"p_slow {row['p_slow']:.3f}  (diff {row['p_H_minus_p_slow']:+.3f})"
        )
    if "parity" in s:
        p, h = s["parity"], s["parity"]["headline"]
        lines.append(
            f"{p['model']} parity, {p['reference']} within each shear rate: Pearson {h['pearson']:.3f} "
            f"(ceiling {h['ceiling']:.2f}, fraction {h['fraction_of_ceiling']:.2f}), best baseline "
            f"{h['best_baseline_name']} {h['best_baseline']:.3f}, skill {h['skill']:+.3f}; "
            f"pooled over rates {p['pooled_rates']:.3f}, pooled all species {p['pooled_all_species']:.3f}"
        )
    if s.get("greedy_top"):
        t = s["greedy_top"]
        lines.append(
            "greedy top-3: "
            + "; ".join(f"gen {r['generation']} l {r['l']} m {r['m']} s {r['species']} r {r['r']}" for r in t[:3])
            + f" -> Pearson {t[min(2, len(t) - 1)]['cumulative_pearson_train']:.3f}"
        )
    lines.append(f"time: {s.get('timings_s', {}).get('total', float('nan')):.1f} s")
    return lines
