"""The test metrics of one run: pooled metrics of its predictions, the noise ceilings of its skill tables and
the terminal summary (the honest-skill tables first, then the pooled numbers, labelled as pooled).

The honest-skill tables themselves are :mod:`taulc.evaluation.skill`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from taulc.evaluation.skill import table_lines
from taulc.models.metrics import classification_metrics, regression_metrics
from taulc.models.outputs import MOBILITY, REGRESSION, SCORE, first_output
from taulc.utils import fmt as _fmt

__all__ = ["evaluate_predictions", "noise_ceiling", "summary_lines"]


def evaluate_predictions(
    pred: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], outputs: Sequence[Any]
) -> dict[str, Any]:
    """Test metrics from per-particle predictions (by ``predict_step`` key) and the matching ground truth, for
    the model's declared ``outputs`` (:mod:`taulc.models.outputs`): its regression, classification-score and
    mobility outputs."""

    out: dict[str, Any] = {}
    reg, score, mob = (first_output(outputs, task) for task in (REGRESSION, SCORE, MOBILITY))
    if reg is not None:
        out["regression"] = regression_metrics(truth["y"], pred[reg.key], truth["config_id"], truth["rate"])
    if score is not None:
        out["classification"] = classification_metrics(truth["cls"], pred[score.key], truth["ln_tau_lc"], truth["rate"])
        out["classification"].update(score=score.key, score_name=score.name, score_label=score.label)
    if mob is not None and np.isfinite(truth.get("mobility", np.array([np.nan]))).any():
        out["mobility"] = regression_metrics(truth["mobility"], pred[mob.key], truth["config_id"], truth["rate"])
    return out


def noise_ceiling(skill: Mapping[str, Any]) -> dict[str, Any]:
    """Noise ceilings of the scored table (√ split-half reliability on the same particles and grouping).

    ``pooled`` is the all-species pooled-over-rates value (kept for older readers,
    equal to ``pooled_all_species``); ``rate`` maps γ̇ to the reference-species ceiling.
    """
    t = skill.get("regression") or skill.get("hardness") or {}
    rows = t.get("rows", [])
    by = {r["scope"]: r["ceiling"] for r in rows if r["scope"] not in ("rate", "config")}
    return {
        "pooled": by.get("pooled_all_species", float("nan")),
        **{k: by.get(k, float("nan")) for k in ("within_rate_mean", "config_mean", "pooled_rates", "pooled_all_species")},
        "rate": {r["group"]: r["ceiling"] for r in rows if r["scope"] == "rate"},
    }


def summary_lines(metrics: Mapping[str, Any]) -> list[str]:
    """Human summary printed at the end of a run: the honest-skill tables, then pooled numbers labelled as such."""

    lines = table_lines(metrics.get("skill", {})) if metrics.get("skill") else []
    ceil = metrics.get("noise_ceiling", {}).get("pooled_all_species", float("nan"))
    reg = metrics.get("test", {}).get("regression")
    if reg:
        lines.append(
            f"all species, POOLED over rates (inflated by rate and species means): Pearson {_fmt(reg['pearson'])} | "
            f"Spearman {_fmt(reg['spearman'])} | R2 {_fmt(reg['r2'])} (ceiling {_fmt(ceil)})"
        )
    cl = metrics.get("test", {}).get("classification")
    if cl:
        lines.append(
            f"all species, POOLED over rates: accuracy {_fmt(cl['accuracy'])} | balanced accuracy "
            f"{_fmt(cl['balanced_accuracy'])} | ROC-AUC {_fmt(cl['roc_auc'])} | Pearson(H, ln tau_LC) "
            f"{_fmt(cl.get('pearson_h_lntau', float('nan')))}"
        )
        n = cl.get("score_name")  # the declared score (taulc.models.outputs): H of the SVM, a logit
        if n:
            lines.append(
                f"{cl.get('score_label', n)} (all species, Fig. 20)  mean {n} {_fmt(cl['mean_score'])} | "
                f"p_{n} ({n} > 0) {_fmt(cl['p_pred'])} | p_slow {_fmt(cl['p_true'])}"
            )
            ph, ps, hb = cl.get("p_pred_rate", {}), cl.get("p_true_rate", {}), cl.get("mean_score_rate", {})
            for r in ph:
                lines.append(
                    f"  rate {r}: {n} bar {_fmt(hb.get(r, float('nan')))}  p_{n} {_fmt(ph[r])}  p_slow {_fmt(ps.get(r, float('nan')))}"
                )
    return lines
