"""Section 3: regression parity of a ridge / GNN / MLP run with noise ceilings (Fig. 17; Yu, Zeng & Wang 2025,
Sec. IV.A); without a regression run, a ridge fitted in-report on another run's split."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from taulc.analysis.context import DatasetContext
from taulc.analysis.plotting import RatePalette
from taulc.analysis.runs_index import RunInfo, pick_run, split_codes
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter

__all__ = ["ridge_alphas", "section_parity", "section_parity_fit", "write"]


def _test_rows(run: RunInfo, table: Any, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Training rows (finite target) and test rows of ``run`` on ``table``, in train.py's prediction order."""
    codes, _ = split_codes(run, table)
    y = table.target(target)
    ok = np.isfinite(y)
    sp = run.data.species
    if getattr(run.model, "input_kind", "tabular") == "tabular" and sp in ("big", "small"):  # tabular runs train and test on data.species
        ok_test = ok & (table.species == (0 if sp == "big" else 1))
    else:
        ok_test = ok
    return np.flatnonzero(ok & (codes == 0)), np.flatnonzero(ok_test & (codes == 2))


def section_parity(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette) -> None:
    """Parity of a logged run; the table is the run's own ``metrics.json`` ``skill.regression`` (the same numbers
    train.py printed), recomputed with :func:`taulc.evaluation.skill.honest_scores` for runs that predate it."""
    from taulc.evaluation.skill import honest_scores  # noqa: PLC0415

    z = np.load(run.path / "test_predictions.npz")
    cid = z["true_config_id"].astype(int) if "true_config_id" in z else z["config_id"].astype(int)
    spec = run.target
    species = z["true_species"] if "true_species" in z else np.zeros(len(cid), dtype=np.int64)
    skill = run.metrics.get("skill")
    if not (skill and "regression" in skill):
        table = ctx.table(run.cfg.get("descriptor"), run.target)
        train_rows, test_rows = _test_rows(run, table, spec.name)
        if len(test_rows) != len(z["y_pred"]):
            rep.skip("parity", f"{run.path} predates the honest-skill tables and its {len(z['y_pred'])} test predictions "
                               f"do not match the {len(test_rows)} test particles of its split; retrain it")
            return
        skill = honest_scores(table, train_rows, test_rows, {"regression": z["y_pred"].astype(float)}, spec,
                              run.cfg.get("system"), seed=int(run.cfg.get("seed", 0)),
                              prediction_names={"regression": "y_pred"})
    _parity(rep, pal, z["true_y"].astype(float), z["y_pred"].astype(float), ctx.rates[cid], species, skill, spec,
            run.short, f"the test split of `{run.path}`", str(run.path))


def ridge_alphas() -> list[float]:
    """The default α grid of :class:`taulc.models.RidgeRegressor` (the one ``src/taulc/conf/model/ridge.yaml`` spells out)."""
    from taulc.models import RidgeRegressor  # noqa: PLC0415

    return [float(a) for a in inspect.signature(RidgeRegressor).parameters["alpha"].default]


def _fit_ridge(x: np.ndarray, y: np.ndarray, tr: np.ndarray, va: np.ndarray, te: np.ndarray,
               alphas: Sequence[float], species: np.ndarray, rate: np.ndarray) -> tuple[float, np.ndarray]:
    """Fit :class:`taulc.models.RidgeRegressor` exactly as ``train.py model=ridge`` does (one exact pass over
    the training rows, α chosen by its default validation score: big particles, Pearson within each
    shear rate, averaged); returns (α, test predictions)."""
    import lightning as L  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch.utils.data import DataLoader  # noqa: PLC0415

    from taulc.models import RidgeRegressor  # noqa: PLC0415
    from taulc.models.synthetic import TensorDictDataset  # noqa: PLC0415

    def loader(rows: np.ndarray) -> DataLoader:
        data = {"x": torch.from_numpy(np.ascontiguousarray(x[rows])), "y": torch.from_numpy(y[rows]),
                "species": torch.from_numpy(np.asarray(species[rows])), "rate": torch.from_numpy(np.asarray(rate[rows]))}
        return DataLoader(TensorDictDataset(data), batch_size=65536)

    model = RidgeRegressor(alpha=list(alphas))
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, loader(tr), loader(va))
    with torch.no_grad():
        pred = model.decision_function(torch.from_numpy(np.ascontiguousarray(x[te]))).double().numpy()
    return float(model.selected_hyperparameters()["alpha"]), pred


def section_parity_fit(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette,
                       alphas: Sequence[float] | None = None) -> None:
    """Parity without a ridge run: fit the paper's ridge (Sec. IV.A) on ``run``'s own split.

    :class:`taulc.models.RidgeRegressor` itself (standardised descriptors, α chosen by validation
    Pearson from ``alphas``, default its own grid :func:`ridge_alphas`), test split used once, the same
    particles and configurations the run was trained/tested on.
    """
    alphas = ridge_alphas() if alphas is None else list(alphas)
    from taulc.evaluation.skill import honest_scores  # noqa: PLC0415

    table = ctx.table(run.cfg.get("descriptor"), run.target)
    codes, _ = split_codes(run, table)
    spec = run.target
    y = table.target(spec.name)
    ok = np.isfinite(y)
    tr, va, te = (ok & (codes == k) for k in (0, 1, 2))
    best, pred = _fit_ridge(table.features, y, tr, va, te, alphas, table.species, table.rate)
    rep.p(f"No ridge run was given: the report fitted the paper's ridge regression itself on the split of "
          f"`{run.path}` (standardised {table.features.shape[1]} descriptors, α = {best:g} chosen on the validation "
          "split by the big-particle within-rate Pearson, test split used once). Train a ridge run (`python train.py model=ridge`) for a logged model.")
    skill = honest_scores(table, np.flatnonzero(tr), np.flatnonzero(te), {"regression": pred}, spec, run.cfg.get("system"),
                          seed=int(run.cfg.get("seed", 0)), prediction_names={"regression": "in-report ridge"})
    _parity(rep, pal, y[te], pred, table.rate[te].astype(float), table.species[te], skill, spec,
            f"ridge fitted in-report, α={best:g}", f"the test split of `{run.path}`", f"in-report ridge on {run.path}")


def _parity(rep: ReportWriter, pal: RatePalette, y: np.ndarray, pred: np.ndarray, rate: np.ndarray, species: np.ndarray,
            skill: Mapping[str, Any], spec: Any, model_name: str, where: str, source: str) -> None:
    from taulc.analysis.parity import plot_parity, skill_frame  # noqa: PLC0415
    from taulc.evaluation.skill import reference_mask  # noqa: PLC0415

    rep.h("3. Regression parity and honest skill (Sec. IV.A)")
    tab = skill_frame(skill["regression"]["rows"])
    ref = reference_mask(species, spec.reference_species)
    lab = {"ln_tau_lc": r"$\ln\tau_{\rm LC}$", "ln_tau_sh": r"$\ln\tau_{\rm sh}$"}.get(spec.name, spec.name)
    rep.figure("parity", plot_parity(y[ref], pred[ref], rate[ref], tab, pal, model_name=f"({model_name})",
                                     target_label=lab, reference=skill.get("reference", "")),
               f"Predicted vs true {spec.name} of the reference particles ({skill.get('reference', '')}) on {where}, "
               "coloured by γ̇; arrows: mean true value per γ̇; inset: Pearson within each γ̇ with its label-noise "
               "ceiling (red) and the best training-split baseline (x) (Fig. 17).")
    rep.table("parity", tab, caption=(
        f"Honest skill (the `skill.regression` table of metrics.json; docs/honest-skill.md): Pearson and Spearman of "
        f"the reference particles ({skill.get('reference', '')}) within each γ̇ and configuration, and pooled (labelled), "
        "each with its noise ceiling √(split-half reliability) on the same particles and grouping, the baselines fitted "
        f"on the training split (structural: {skill.get('structural_baseline', '')}), skill = Pearson − best baseline "
        "and fraction of ceiling = Pearson / ceiling."))
    rows = {r["scope"]: r for r in skill["regression"]["rows"]}
    rep.summary["parity"] = {"run": source, "model": model_name, "reference": skill.get("reference"),
                             "headline": skill["regression"]["headline"],
                             "pooled_rates": rows.get("pooled_rates", {}).get("pearson"),
                             "pooled_all_species": rows.get("pooled_all_species", {}).get("pearson"),
                             "config_mean": rows.get("config_mean", {}).get("pearson")}


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    reg = pick_run(inp.runs, "regression")
    if reg is not None:
        section_parity(rep, reg, inp.ctx, inp.pal)
        return True
    fit_on = pick_run(inp.runs, "hardness") or (inp.runs[0] if inp.runs else None)
    if fit_on is None:
        return False
    section_parity_fit(rep, fit_on, inp.ctx, inp.pal)
    return True
