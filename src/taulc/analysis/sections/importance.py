"""Section 4: feature importance -- Fig. 16 (all l ≤ 6), greedy ranking (Table I, Fig. 18)
(Yu, Zeng & Wang 2025, Sec. IV.A and Appendix C)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from taulc.analysis.context import AnalysisSpec, DatasetContext, ImportanceSpec, analysis_spec
from taulc.analysis.importance import PearsonAccumulator, gram_stats, greedy_forward, holdout_pearson
from taulc.analysis.importance_plots import fig16_table, full_vector_pearson, plot_fig16, plot_fig18, table_one
from taulc.analysis.runs_index import RunInfo, pick_run, split_codes
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter
from taulc.data.derived import shard_features
from taulc.paths import conf_dir
from taulc.utils import to_plain as _plain

__all__ = ["section_importance", "write"]


def _full_descriptor(icfg: ImportanceSpec) -> dict[str, Any] | None:
    spec = icfg.full_descriptor
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return dict(spec)
    path = conf_dir() / "descriptor" / f"{spec}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"analysis.importance.full_descriptor: {path} does not exist")
    return _plain(OmegaConf.load(path))


def section_importance(
    rep: ReportWriter,
    ctx: DatasetContext,
    runs: Sequence[RunInfo],
    base_cfg: Mapping[str, Any],
    acfg: AnalysisSpec | Mapping[str, Any] | None = None,
) -> None:

    icfg = analysis_spec(acfg).importance
    rep.h("4. Feature importance (Sec. IV.A, Appendix C)")
    full = _full_descriptor(icfg)
    if full is None:
        rep.skip("Fig. 16", "analysis.importance.full_descriptor is null")
    else:
        t0 = time.perf_counter()
        acc = PearsonAccumulator()
        names: list[str] = []
        for i, entry in enumerate(ctx.manifest["shards"]):
            x, names, _ = shard_features(ctx.root, {"shards": [entry]}, full, progress=False)
            s = ctx.shards[i]
            y = np.log(np.asarray(s["tau_lc"], dtype=np.float64))
            m = (np.asarray(s["species"]) == 0) & np.isfinite(y)
            acc.add(x[0][m], y[m])
        r = acc.result()
        df = fig16_table(names, r)
        rep.figure(
            "fig16_pearson_all_lm",
            plot_fig16(df, n_particles=acc.n),
            f"Pearson p of every generation-0 element g_l^m(s, r), l ≤ 6 ({len(names)} columns), with ln τ_LC over the "
            f"{acc.n} big particles of all configurations and rates (Fig. 16); computed in {time.perf_counter() - t0:.1f} s.",
        )
        top = df.assign(abs_p=df["pearson"].abs()).sort_values("abs_p", ascending=False)
        rep.table("fig16_pearson", df.drop(columns=["name"]), show=False, caption="Pearson of every element")
        rep.table("fig16_top", top.head(15).drop(columns=["abs_p", "column"]), caption="Strongest single elements")
    # greedy (Appendix C) on the descriptor of the runs (the 576-element vector by default)
    desc = base_cfg.get("descriptor")
    table = ctx.table(desc, runs[0].target if runs else None)
    y = table.ln_tau_lc
    sp = icfg.species
    keep = np.isfinite(y) & (np.ones(len(y), bool) if sp == "all" else table.species == (0 if sp == "big" else 1))
    split_run = next((r for r in runs if r.cfg.get("split")), None)
    if split_run is not None:
        codes, _ = split_codes(split_run, table)
        fit_rows, test_rows = np.flatnonzero(keep & (codes != 2)), np.flatnonzero(keep & (codes == 2))
        where = f"training + validation configurations of `{split_run.path}` (test configurations held out)"
    else:
        fit_rows, test_rows = np.flatnonzero(keep), np.array([], dtype=int)
        where = "all particles (no run given, nothing held out)"
    k = icfg.greedy_k
    t0 = time.perf_counter()
    st = gram_stats(table.features[fit_rows], y[fit_rows])
    res = greedy_forward(None, None, k, stats=st)
    dt = time.perf_counter() - t0
    ho = holdout_pearson(res, table.features[test_rows], y[test_rows]) if len(test_rows) > 2 else None
    t1 = table_one(res, table.feature_names, ho)
    fullp = full_vector_pearson(
        st, table.features[test_rows] if len(test_rows) else None, y[test_rows] if len(test_rows) else None
    )
    extra = {}
    reg = pick_run(runs, "regression")
    if reg is not None:
        extra[f"{reg.short} run, test Pearson"] = float(reg.metrics.get("test", {}).get("regression", {}).get("pearson", np.nan))
    rep.p(
        f"Greedy forward selection over the {table.features.shape[1]}-element vector on {len(fit_rows)} particles "
        f"({sp} species) of the {where}: Gram matrix + Gram-Schmidt updates, {dt:.2f} s for the top {len(res.order)}."
    )
    rep.figure(
        "fig18_cumulative_pearson",
        plot_fig18(t1, fullp, extra, n_train=len(fit_rows)),
        "Cumulative Pearson of the top-k elements (Fig. 18); dashed: the full vector (least squares); "
        "the held-out curve refits nothing, it applies the same k-element models to the test configurations.",
    )
    rep.table(
        "table1_greedy",
        t1.drop(columns=["name", "column"]),
        caption="Table I: greedy ranking (rank, generation, l, m, neighbour species, r)",
    )
    rep.summary["greedy_top"] = t1.head(5)[["rank", "generation", "l", "m", "species", "r", "cumulative_pearson_train"]].to_dict(
        orient="records"
    )
    rep.summary["greedy_full_vector"] = fullp


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    section_importance(rep, inp.ctx, inp.runs, inp.base_cfg, inp.acfg)
    return True
