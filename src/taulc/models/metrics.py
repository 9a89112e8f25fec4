"""Evaluation metrics for per-particle predictions (paper Sec. IV, Figs. 17 and 20).

Pure functions on 1-D numpy arrays (torch tensors are accepted and converted).
Every function returns plain Python ``float`` values or dicts of them, so the
result can go straight to ``json.dump`` (NaN marks an undefined value, e.g. a
Pearson coefficient of a constant array or a ROC-AUC with a single class;
Python's ``json`` writes it as ``NaN``).

Conventions
-----------
* Regression targets are ``ln tau_LC``; Pearson/Spearman are computed

  - *pooled* over all test particles (``pearson``),
  - *per configuration*, then averaged over ``config_id`` (``pearson_config``),
    the number the design asks to trust together with a split by configuration,
  - *per shear rate* (``pearson_rate``: ``{rate: value}``, Fig. 17 inset).

* Classification: ``cls`` 1 = slow (solid-like), 0 = fast (liquid-like); the
  score is the hardness ``H`` (SVM) or a logit (GNN), positive = slow.
  ``p_pred`` is the fraction predicted slow (``p_H`` of Fig. 20 when the score
  is H) and ``p_true`` the fraction labelled slow (``p_slow``).
* ``pearson_h_lntau`` correlates the score with ``ln tau_LC`` and
  ``pearson_h_tau`` with ``tau_LC = exp(ln tau_LC)``; the paper quotes
  "Pearson of H and tau_LC ~ 0.5" without saying which, so both are reported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from taulc.dynamics.estimators import spearman_brown

__all__ = [
    "pearson",
    "spearman",
    "r2_score",
    "grouped_pearson",
    "regression_metrics",
    "classification_metrics",
    "split_half_ceiling",
    "flatten_metrics",
]

_MIN_GROUP = 3  # groups with fewer particles are skipped in per-group averages


def _np(a: Any, dtype: type = np.float64) -> np.ndarray:
    if a is None:
        return None  # type: ignore[return-value]
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=dtype).reshape(-1)


def pearson(a: Any, b: Any) -> float:
    """Pearson correlation coefficient; NaN if either array is constant or n < 2."""
    x, y = _np(a), _np(b)
    if x.size < 2:
        return float("nan")
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    if den <= 0 or not np.isfinite(den):
        return float("nan")
    return float(np.clip((x * y).sum() / den, -1.0, 1.0))


def spearman(a: Any, b: Any) -> float:
    """Spearman rank correlation (Pearson of average ranks, ties averaged)."""
    x, y = _np(a), _np(b)
    if x.size < 2:
        return float("nan")
    return pearson(rankdata(x), rankdata(y))


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot."""
    t, p = _np(y_true), _np(y_pred)
    ss_tot = ((t - t.mean()) ** 2).sum()
    if t.size < 2 or ss_tot <= 0:
        return float("nan")
    return float(1.0 - ((t - p) ** 2).sum() / ss_tot)


def _group_values(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(groups, return_inverse=True)
    return uniq, inv.reshape(-1)


def grouped_pearson(a: Any, b: Any, groups: Any, rank: bool = False) -> dict[Any, float]:
    """Pearson (or Spearman if ``rank``) of ``a`` and ``b`` within each group.

    Vectorised with ``np.bincount`` sums (ranks are taken per group). Groups
    with fewer than 3 members or zero variance map to NaN.
    """
    x, y = _np(a), _np(b)
    uniq, inv = _group_values(_group_array(groups))
    k = uniq.size
    if rank:  # rank within each group: sort by (group, value)
        x = _rank_within(x, inv)
        y = _rank_within(y, inv)
    n = np.bincount(inv, minlength=k).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(inv, x, k) / n
        my = np.bincount(inv, y, k) / n
        dx = x - mx[inv]
        dy = y - my[inv]
        sxy = np.bincount(inv, dx * dy, k)
        sxx = np.bincount(inv, dx * dx, k)
        syy = np.bincount(inv, dy * dy, k)
        r = sxy / np.sqrt(sxx * syy)
    r = np.where((n >= _MIN_GROUP) & (sxx > 0) & (syy > 0), np.clip(r, -1, 1), np.nan)
    keys = [_key(u) for u in uniq]
    return {kk: float(v) for kk, v in zip(keys, r)}


def _rank_within(v: np.ndarray, inv: np.ndarray) -> np.ndarray:
    out = np.empty_like(v)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    for idx in np.split(order, bounds):  # loop over groups, not particles
        out[idx] = rankdata(v[idx])
    return out


def _group_array(a: Any) -> np.ndarray:
    """Grouping array keeping integer dtypes (config ids) apart from floats (rates)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a).reshape(-1)


def _key(u: Any) -> Any:
    """Group key as a JSON-friendly Python scalar: int for integer ids, float
    rounded to 7 significant digits for rates (float32 storage artefacts)."""
    if isinstance(u, (np.integer, int)):
        return int(u)
    return float(f"{float(u):.7g}")


def _mean_finite(d: dict[Any, float]) -> float:
    v = np.array([x for x in d.values() if np.isfinite(x)], dtype=np.float64)
    return float(v.mean()) if v.size else float("nan")


def within_rate_pearson(y: Any, pred: Any, species: Any, rate: Any, reference_species: int | None = 0) -> float:
    """The honest validation score: Pearson of ``pred`` with ``y`` for the reference species within each
    shear rate, averaged over rates (the ``within_rate_mean`` scope of :mod:`taulc.evaluation.skill`).

    Hyperparameters and checkpoints are selected on it, not on the pooled Pearson, which the
    rate and species means inflate.  NaN when no rate has three usable particles.
    """
    t, p = _np(y), _np(pred)
    keep = np.isfinite(t) & np.isfinite(p)
    if reference_species is not None:
        keep &= _np(species) == int(reference_species)
    if not keep.any():
        return float("nan")
    return _mean_finite(grouped_pearson(t[keep], p[keep], _group_array(rate)[keep]))


def regression_metrics(
    y_true: Any,
    y_pred: Any,
    config_id: Any | None = None,
    rate: Any | None = None,
    species: Any | None = None,
    reference_species: int | None = 0,
) -> dict[str, Any]:
    """Regression metrics for ``ln tau`` predictions (Sec. IV.A, Fig. 17).

    Non-finite targets/predictions are dropped. Keys: ``n, pearson, spearman,
    r2, mse, mae`` (pooled), ``pearson_config, spearman_config`` (mean over
    configurations of per-configuration values) and ``pearson_rate,
    spearman_rate, r2_rate`` (dicts ``rate -> value``); with ``species`` and
    ``rate``: ``pearson_within_rate`` (:func:`within_rate_pearson`, the selection
    score).  Per-group keys appear only when the grouping array is given.
    """
    if species is not None and rate is not None:
        honest = within_rate_pearson(y_true, y_pred, species, rate, reference_species)
    t, p = _np(y_true), _np(y_pred)
    keep = np.isfinite(t) & np.isfinite(p)
    t, p = t[keep], p[keep]
    out: dict[str, Any] = {
        "n": int(t.size),
        "pearson": pearson(t, p),
        "spearman": spearman(t, p),
        "r2": r2_score(t, p) if t.size else float("nan"),
        "mse": float(np.mean((t - p) ** 2)) if t.size else float("nan"),
        "mae": float(np.mean(np.abs(t - p))) if t.size else float("nan"),
    }
    if config_id is not None:
        # config ids are only unique within a rate in some datasets; the
        # datamodule is expected to hand out globally unique ids.
        c = _group_array(config_id)[keep]
        out["pearson_config"] = _mean_finite(grouped_pearson(t, p, c))
        out["spearman_config"] = _mean_finite(grouped_pearson(t, p, c, rank=True))
    if rate is not None:
        r = _group_array(rate)[keep]
        out["pearson_rate"] = grouped_pearson(t, p, r)
        out["spearman_rate"] = grouped_pearson(t, p, r, rank=True)
        uniq, inv = _group_values(r)
        out["r2_rate"] = {_key(u): r2_score(t[inv == i], p[inv == i]) for i, u in enumerate(uniq)}
    if species is not None and rate is not None:
        out["pearson_within_rate"] = honest
    return out


CLASSIFICATION_SCORES = ("accuracy", "balanced_accuracy", "roc_auc", "precision", "recall", "f1", "mcc", "average_precision")
"""The label scores of :func:`classification_metrics` (slow = positive class), in the order every table prints them."""
SKILL_FIELDS = (
    "baseline_rate",
    "baseline_species_rate",
    "baseline_structural",
    "best_baseline",
    "best_baseline_name",
    "skill",
    "fraction_of_ceiling",
)
"""The columns beside a correlation in the honest-skill tables (:mod:`taulc.evaluation.skill`) and the runs'
results table: the training-split baselines, the best of them, skill = score - best baseline, and the
fraction of the noise ceiling reached."""


def classification_metrics(
    cls_true: Any,
    score: Any,
    ln_tau: Any | None = None,
    rate: Any | None = None,
    threshold: float = 0.0,
    species: Any | None = None,
    reference_species: int | None = 0,
) -> dict[str, Any]:
    """Slow/fast classification metrics (Sec. IV.B, Fig. 20).

    ``score`` is the hardness H (or a logit); ``score > threshold`` predicts
    slow. Particles with ``cls`` outside {0, 1} (e.g. -1 = unlabelled) are
    ignored for the label metrics but still counted in ``p_pred``.
    Keys: ``n, accuracy, balanced_accuracy, roc_auc, precision, recall, f1,
    mcc`` (Matthews), ``average_precision`` (area under the precision-recall
    curve; its chance level is ``p_true``, not 0.5), ``p_pred (= p_H), p_true
    (= p_slow), mean_score (= H bar)``; slow = positive class; with ``ln_tau``: ``pearson_h_lntau,
    pearson_h_tau, spearman_h_tau``; with ``rate``: ``p_pred_rate,
    p_true_rate, mean_score_rate`` (and ``pearson_h_lntau_rate``; with ``species`` too:
    ``pearson_h_lntau_within_rate``, :func:`within_rate_pearson` of H with ln τ, the
    selection score of the SVM).
    """
    from sklearn.metrics import (
        average_precision_score,
        balanced_accuracy_score,
        matthews_corrcoef,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    c = _np(cls_true)
    s = _np(score)
    pred_all = (s > threshold).astype(np.float64)
    lab = np.isin(c, (0.0, 1.0)) & np.isfinite(s)
    ct, st, pt = c[lab].astype(np.int64), s[lab], pred_all[lab].astype(np.int64)
    out: dict[str, Any] = {"n": int(lab.sum())}
    if ct.size:
        out["accuracy"] = float((ct == pt).mean())
        out["balanced_accuracy"] = float(balanced_accuracy_score(ct, pt)) if np.unique(ct).size == 2 else float("nan")
        two = np.unique(ct).size == 2
        out["roc_auc"] = float(roc_auc_score(ct, st)) if two else float("nan")
        prec, rec, f1, _ = precision_recall_fscore_support(
            ct, pt, average="binary", pos_label=1, zero_division=np.nan
        )  # undefined -> NaN, not 0
        out.update(
            precision=float(prec),
            recall=float(rec),
            f1=float(f1),
            mcc=float(matthews_corrcoef(ct, pt)) if two else float("nan"),
            average_precision=float(average_precision_score(ct, st)) if two else float("nan"),
        )
        out["p_true"] = float(ct.mean())
    else:
        out.update({k: float("nan") for k in (*CLASSIFICATION_SCORES, "p_true")})
    fin = np.isfinite(s)
    out["p_pred"] = float(pred_all[fin].mean()) if fin.any() else float("nan")
    out["mean_score"] = float(s[fin].mean()) if fin.any() else float("nan")
    if ln_tau is not None:
        lt = _np(ln_tau)
        k = np.isfinite(lt) & fin
        out["pearson_h_lntau"] = pearson(s[k], lt[k])
        with np.errstate(over="ignore"):
            out["pearson_h_tau"] = pearson(s[k], np.exp(lt[k]))
        out["spearman_h_tau"] = spearman(s[k], lt[k])
    if rate is not None:
        r = _group_array(rate)
        uniq, inv = _group_values(r[fin])
        sf, pf = s[fin], pred_all[fin]
        out["p_pred_rate"] = {_key(u): float(pf[inv == i].mean()) for i, u in enumerate(uniq)}
        out["mean_score_rate"] = {_key(u): float(sf[inv == i].mean()) for i, u in enumerate(uniq)}
        if ct.size:
            ul, il = _group_values(r[lab])
            out["p_true_rate"] = {_key(u): float(ct[il == i].mean()) for i, u in enumerate(ul)}
        if ln_tau is not None:
            k = np.isfinite(lt) & fin
            out["pearson_h_lntau_rate"] = grouped_pearson(s[k], lt[k], r[k])
            if species is not None:
                out["pearson_h_lntau_within_rate"] = within_rate_pearson(lt, s, species, r, reference_species)
    return out


def split_half_ceiling(half_a: Any, half_b: Any, groups: Any) -> dict[Any, float]:
    """Label-noise ceiling √ρ of each group from split-half labels (DESIGN "noise ceiling").

    ``half_a``, ``half_b``: ``(S, P)`` labels of the same ``P`` particles from two
    disjoint halves of their replicas, for ``S`` random halvings
    (:func:`taulc.dynamics.estimators.split_halves`).  Within each group the
    half-half Pearson ``r`` is averaged over halvings, Spearman-Brown corrected
    to the full replica count, ``ρ = 2r / (1 + r)``, and ``√ρ`` (clipped to
    [0, 1]) returned: the correlation of the labels with their own noise-free
    mean, which bounds any model's Pearson computed on the same particles and
    grouping.  Non-finite half labels are dropped per halving.
    """
    a = np.atleast_2d(_np_2d(half_a))
    b = np.atleast_2d(_np_2d(half_b))
    g = _group_array(groups)
    if a.shape != b.shape or a.shape[1] != g.size:
        raise ValueError(f"split_half_ceiling: halves {a.shape} / {b.shape} do not match {g.size} grouped particles")
    keys = [_key(u) for u in np.unique(g)]
    rs = np.full((a.shape[0], len(keys)), np.nan)
    for s_ in range(a.shape[0]):  # loop over halvings (~10), vectorised over particles
        ok = np.isfinite(a[s_]) & np.isfinite(b[s_])
        per = grouped_pearson(a[s_, ok], b[s_, ok], g[ok])
        rs[s_] = [per.get(k, np.nan) for k in keys]
    out = {}
    for j, k in enumerate(keys):
        col = rs[:, j][np.isfinite(rs[:, j])]
        if not col.size:
            out[k] = float("nan")
            continue
        rho = spearman_brown(float(col.mean())) if col.mean() > -1 else float("nan")
        out[k] = float(np.sqrt(np.clip(rho, 0.0, 1.0))) if np.isfinite(rho) else float("nan")
    return out


def _np_2d(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Flatten nested metric dicts to ``{"prefix/key": float}`` for loggers.

    ``{"pearson_rate": {0.01: 0.7}}`` becomes ``{"prefix/pearson_rate/0.01": 0.7}``.
    """
    flat: dict[str, float] = {}
    for k, v in metrics.items():
        name = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            for kk, vv in v.items():
                flat[f"{name}/{kk:g}" if isinstance(kk, float) else f"{name}/{kk}"] = float(vv)
        else:
            flat[name] = float(v)
    return flat
