"""Section 3: regression parity of a ridge / GNN / MLP run with noise ceilings (Fig. 17; Yu, Zeng & Wang 2025,
Sec. IV.A), drawn from what the run saved: its test predictions and the honest-skill table of its metrics.

The report trains nothing: without a regression run (report role ``regression``) the section is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from taulc.analysis.parity import plot_parity, skill_frame
from taulc.analysis.plotting import RatePalette
from taulc.analysis.runs_index import RunInfo, pick_run
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter
from taulc.evaluation.skill import reference_mask

__all__ = ["PARITY_ARRAYS", "section_parity", "write"]

PARITY_ARRAYS = ("true_y", "true_rate", "true_species")
"""What parity reads from the run's saved test predictions (:meth:`taulc.runs.Run.read_predictions`), besides the
run's declared regression output (:meth:`taulc.analysis.runs_index.RunInfo.output_key`)."""


def section_parity(rep: ReportWriter, run: RunInfo, pal: RatePalette) -> None:
    """Parity of a logged run from its saved test predictions; the table is the run's own ``skill.regression``
    (the same numbers train.py printed). Runs saved before the honest-skill tables or without the arrays of
    :data:`PARITY_ARRAYS` are listed under "Skipped" (retrain them)."""
    skill = run.metrics.get("skill") or {}
    if "regression" not in skill:
        rep.skip("parity", f"{run.path} predates the honest-skill tables; retrain it")
        return
    z = run.read_predictions()
    key = run.output_key("regression")
    missing = [k for k in (key, *PARITY_ARRAYS) if k is None or k not in z]
    if missing:
        rep.skip("parity", f"the test predictions of {run.path} lack {missing}; retrain it")
        return
    _parity(
        rep,
        pal,
        z["true_y"].astype(float),
        z[key].astype(float),
        z["true_rate"].astype(float),
        z["true_species"],
        skill,
        run.target,
        run.short,
        f"the test split of `{run.path}`",
        str(run.path),
    )


def _parity(
    rep: ReportWriter,
    pal: RatePalette,
    y: np.ndarray,
    pred: np.ndarray,
    rate: np.ndarray,
    species: np.ndarray,
    skill: Mapping[str, Any],
    spec: Any,
    model_name: str,
    where: str,
    source: str,
) -> None:

    rep.h("3. Regression parity and honest skill (Sec. IV.A)")
    tab = skill_frame(skill["regression"]["rows"])
    ref = reference_mask(species, spec.reference_species)
    lab = {"ln_tau_lc": r"$\ln\tau_{\rm LC}$", "ln_tau_sh": r"$\ln\tau_{\rm sh}$"}.get(spec.name, spec.name)
    rep.figure(
        "parity",
        plot_parity(
            y[ref],
            pred[ref],
            rate[ref],
            tab,
            pal,
            model_name=f"({model_name})",
            target_label=lab,
            reference=skill.get("reference", ""),
        ),
        f"Predicted vs true {spec.name} of the reference particles ({skill.get('reference', '')}) on {where}, "
        "coloured by γ̇; arrows: mean true value per γ̇; inset: Pearson within each γ̇ with its label-noise "
        "ceiling (red) and the best training-split baseline (x) (Fig. 17).",
    )
    rep.table(
        "parity",
        tab,
        caption=(
            f"Honest skill (the `skill.regression` table of the run's metrics; docs/honest-skill.md): Pearson and Spearman of "
            f"the reference particles ({skill.get('reference', '')}) within each γ̇ and configuration, and pooled (labelled), "
            "each with its noise ceiling √(split-half reliability) on the same particles and grouping, the baselines fitted "
            f"on the training split (structural: {skill.get('structural_baseline', '')}), skill = Pearson − best baseline "
            "and fraction of ceiling = Pearson / ceiling."
        ),
    )
    rows = {r["scope"]: r for r in skill["regression"]["rows"]}
    rep.summary["parity"] = {
        "run": source,
        "model": model_name,
        "reference": skill.get("reference"),
        "headline": skill["regression"]["headline"],
        "pooled_rates": rows.get("pooled_rates", {}).get("pearson"),
        "pooled_all_species": rows.get("pooled_all_species", {}).get("pearson"),
        "config_mean": rows.get("config_mean", {}).get("pearson"),
    }


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    run = pick_run(inp.runs, "regression")
    if run is None:
        return False
    section_parity(rep, run, inp.pal)
    return True
