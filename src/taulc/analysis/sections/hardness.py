"""Section 2: hardness H of the SVM run on *all* particles -- maps with Appendix A clusters (Fig. 19),
H̄, p_H vs p_slow (Fig. 20) (Yu, Zeng & Wang 2025, Sec. IV.B)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.context import AnalysisSpec, DatasetContext, analysis_spec
from taulc.analysis.hardness import compute_hardness, hardness_tables, plot_hardness_maps, plot_ph_pslow
from taulc.analysis.plotting import RatePalette
from taulc.analysis.runs_index import RunInfo, pick_run, split_codes
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter

__all__ = ["section_hardness", "write"]


def section_hardness(
    rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette, acfg: AnalysisSpec | Mapping[str, Any] | None = None
) -> None:
    from taulc.models.io import load_model  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

    a = analysis_spec(acfg)
    rep.h("2. Hardness H of the SVM (Sec. IV.B)")
    model = load_model(run.model_path)
    table = ctx.table(run.cfg.get("descriptor"), run.target)
    h = compute_hardness(model, table.features)
    codes, split_cfg = split_codes(run, table)
    train_cfgs = [table.shard_ids[c] for c, s in split_cfg.items() if "train" in s.split("+") or s == "train"]
    rep.p(
        f"Model: `{run.path}` (C = {run.metrics.get('selected', {}).get('C', '?')}). H = (w·z + b)/‖w‖ is computed "
        f"for **all {len(h)} particles** of the dataset. Split `{run.split.kind}`: configurations "
        f"in training: {', '.join(train_cfgs) or '–'} (the SVM trains on a class-balanced subset of their particles); "
        "validation / test ones are marked per configuration below."
    )
    per_rate, per_cfg = hardness_tables(h, table.rate, table.slow, table.config_id, split_cfg, table.shard_ids)
    rep.figure(
        "p_H_vs_p_slow",
        plot_ph_pslow(per_rate, per_cfg, pal),
        "(a) Mean hardness H̄ vs γ̇ (grey: single configurations); (b) p_H (H > 0) and p_slow (Eq. 2) vs γ̇ (Fig. 20). "
        "γ̇ = 0 is drawn at the left end of the log axis.",
    )
    rep.table("p_H_p_slow_per_rate", per_rate, caption="H̄, p_H, p_slow and p_H − p_slow per shear rate (all particles)")
    rep.table("p_H_p_slow_per_config", per_cfg, caption="Per configuration, with its split")
    maps = []
    for r in sorted(np.unique(table.rate)):
        cands = [i for i, s in enumerate(ctx.manifest["shards"]) if float(s["rate"]) == r]
        i = map_choice(cands, split_cfg, a.map_config)
        lo, hi = table.shard_offsets[i], table.shard_offsets[i + 1]
        maps.append((float(r), f"{table.shard_ids[i]}, {split_cfg.get(i, 'unused')}", ctx.shards[i], h[lo:hi]))
    fig, cl = plot_hardness_maps(
        maps, thickness=a.slice_thickness, center_frac=a.slice_center, n_grid=a.n_grid, oversample=a.oversample
    )
    rep.figure(
        "hardness_maps",
        fig,
        f"x-y slices (thickness {a.slice_thickness} σ at z = {a.slice_center} L_z), "
        "particles coloured by H (common colour bar, big/small = large/small dots). Dashed: slow/fast boundary from "
        "the labels (0.5 level of the Eq. A1 convolution of the slow label); grey: clusters circled with the grid "
        "method of Appendix A (grid and l_cg = L/20, 26-neighbour maxima of the Eq. A1 convolution of ln τ_LC, "
        "nearest-centre assignment); ×/+ slow/fast centres within the slice (Fig. 19).",
    )
    rep.table("hardness_maps", cl, caption="Clusters and slice statistics of the maps")
    pd.DataFrame(
        {
            "shard": np.asarray(table.shard_ids)[table.config_id],
            "rate": table.rate,
            "species": table.species,
            "H": h,
            "slow": table.slow,
            "ln_tau_lc": table.ln_tau_lc,
            "split": np.array(["train", "val", "test"])[codes],
        }
    ).to_csv(rep.tmp / "tables" / "hardness_all_particles.csv", index=False)
    rep.tables.append("tables/hardness_all_particles.csv")
    rep.summary["hardness"] = per_rate.to_dict(orient="records")


def map_choice(candidates: list[int], split_of: Mapping[int, str], index: int | None) -> int:
    """The configuration mapped for one rate: ``candidates[index]`` (clipped), or with ``index=None`` the first
    held-out test configuration (the map then shows what the model did not see), else the first validation one,
    else the first configuration."""
    if index is not None:
        return candidates[min(index, len(candidates) - 1)]
    for role in ("test", "val"):
        held = [c for c in candidates if role in str(split_of.get(c, "")).split("+")]
        if held:
            return held[0]
    return candidates[0]


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    run = pick_run(inp.runs, "hardness")
    if run is None:
        return False
    section_hardness(rep, run, inp.ctx, inp.pal, inp.acfg)
    return True
